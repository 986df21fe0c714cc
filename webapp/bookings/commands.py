"""`flask recount`: repair every customer's counters from the records."""

import time

import click
from sqlalchemy import func, select

from webapp.bookings import bp
from webapp.bookings.counters import recount, rehome_stranded
from webapp.extensions import db
from webapp.models import Business
from webapp.money.recount import recount_money
from webapp.search import deep_pages, tag_lists


@bp.cli.command("recount")
@click.option("--business", "business_name", default=None, help="Only this business (by name).")
def recount_command(business_name: str | None) -> None:
    """Recompute the customers' booking counters from their bookings, their money balances (spend,
    orders, points, store credit) and their cards' stamps from the money rows, the customer list's bucket
    counts from the customers and each customer's copy of its tags from its tags (after raw SQL, a
    TRUNCATE or a restore), and report how many were wrong."""
    business_id = None
    if business_name:
        business_id = db.session.scalar(
            select(Business.id).where(func.lower(Business.name) == business_name.lower())
        )
        if business_id is None:
            raise click.UsageError(f"No business called {business_name!r}.")
    stranded, seconds = timed(lambda: rehome_stranded(business_id))
    if stranded:  # said only when found: the survivors' counters are fixed just below
        plural = "s" if stranded != 1 else ""
        click.echo(f"Moved {stranded:,} booking{plural} left on merged-away customers to the survivors.")
    wrong, seconds = timed(lambda: recount(business_id=business_id))
    if wrong:
        click.echo(f"Fixed the counters of {wrong:,} customer{'s' if wrong != 1 else ''} in {seconds:.1f} s.")
    else:
        click.echo(f"All counters were already right (checked in {seconds:.1f} s).")
    money, seconds = timed(lambda: recount_money(business_id=business_id))
    if money:
        plural = "s" if money != 1 else ""
        click.echo(f"Fixed the money balances of {money:,} customer{plural} in {seconds:.1f} s.")
    else:
        click.echo(f"All money balances were already right (checked in {seconds:.1f} s).")
    buckets, seconds = timed(lambda: deep_pages.rebuild(business_id))
    if buckets:
        click.echo(f"Fixed {buckets:,} list bucket count{'s' if buckets != 1 else ''} in {seconds:.1f} s.")
    else:
        click.echo(f"All list bucket counts were already right (rebuilt in {seconds:.1f} s).")
    lists, seconds = timed(lambda: tag_lists.rebuild(business_id))
    if lists:
        plural = "s" if lists != 1 else ""
        click.echo(f"Fixed the tag list{plural} of {lists:,} customer{plural} in {seconds:.1f} s.")
    else:
        click.echo(f"All customers' tag lists were already right (checked in {seconds:.1f} s).")


def timed(repair) -> tuple[int, float]:
    """Run one repair and commit it: (how many were wrong, seconds taken)."""
    started = time.perf_counter()
    wrong = repair()
    db.session.commit()
    return wrong, time.perf_counter() - started
