"""Duplicate candidates and merging customers."""

import click
from flask import Blueprint

bp = Blueprint("merge", __name__, cli_group=None)


@bp.cli.command("refresh-duplicates")
@click.option(
    "--business", "business_name", default=None, help="Only this business (default: every business)."
)
def refresh_duplicates_command(business_name: str | None) -> None:
    """Recompute the duplicate candidates of every business (or one) in bulk."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.merge.candidates import refresh_duplicates
    from webapp.models import Business

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
            f"{business.name}: {scan.customers:,} customers checked, "
            f"{scan.candidates:,} possible duplicates, {scan.seconds:.1f} s."
        )


from webapp.merge import views  # noqa: E402,F401
