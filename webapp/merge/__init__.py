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


MERGE_ACTION_LABELS = {
    "customer.merged": "Merged a duplicate into this customer",
    "customer.merged_away": "Merged into another customer",
    "customer.merge_undone": "Merge undone",
    "customer.unmerged": "Merge undone (restored)",
    "customer.bookings_transferred": "Bookings transferred in",
    "customer.bookings_transferred_away": "Bookings transferred out",
    "customer.not_duplicate": "Marked as not a duplicate",
}
MERGE_ACTIONS = tuple(MERGE_ACTION_LABELS)


@bp.app_template_global()
def merge_undo_problem(event) -> str | None:
    """Why a merge event cannot be undone now (None when it can), for the profile history."""
    from webapp.merge.views import _undo_problem

    return _undo_problem(event)


@bp.app_template_global()
def merge_count_label(table: str, count: int) -> str:
    """ "3 bookings", "1 sale"."""
    from webapp.merge.rows import label

    return label(table, count)


@bp.app_context_processor
def merge_event_actions() -> dict:
    """The audit actions the merge feature renders itself in a customer's history."""
    from webapp.merge.services import FIELD_LABELS

    return {
        "merge_actions": MERGE_ACTIONS,
        "merge_action_labels": MERGE_ACTION_LABELS,
        "merge_field_labels": FIELD_LABELS,
    }


from webapp.merge import views  # noqa: E402,F401
