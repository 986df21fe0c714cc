"""`flask refresh-duplicates`: recompute the duplicate candidates in bulk (e.g. nightly)."""

import click
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.merge import bp
from webapp.merge.candidates import refresh_duplicates
from webapp.models import Business
from webapp.text import counted


@bp.cli.command("refresh-duplicates")
@click.option(
    "--business", "business_name", default=None, help="Only this business (default: every business)."
)
def refresh_duplicates_command(business_name: str | None) -> None:
    """Recompute the duplicate candidates of every business (or one) in bulk."""
    query = select(Business).order_by(Business.id)
    if business_name:
        query = query.where(func.lower(Business.name) == business_name.lower())
    businesses = db.session.scalars(query).all()
    if business_name and not businesses:
        raise click.UsageError(f"No business called {business_name!r}.")
    for business in businesses:
        scan = refresh_duplicates(business.id)
        db.session.commit()
        click.echo(
            f"{business.name}: {counted(scan.customers, 'customer')} checked, "
            f"{counted(scan.candidates, 'possible duplicate')}, {scan.seconds:.1f} s."
        )
