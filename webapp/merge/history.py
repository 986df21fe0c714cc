"""What the profile shows of merging: the history events' labels and whether each merge can be undone."""

import uuid

from sqlalchemy import select

from webapp.extensions import db
from webapp.merge import rows
from webapp.merge.services import FIELD_LABELS
from webapp.merge.undo import why_not_undoable
from webapp.models import AuditEvent, Customer
from webapp.models.customer import LEAN

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


def undo_problems(events) -> dict[int, str | None]:
    """Why each merge among `events` cannot be undone now (None: it can), by event id, in one query."""
    merges = [e for e in events if e.action == "customer.merged"]
    if not merges:
        return {}
    ids = {uuid.UUID(e.changes["source_id"]) for e in merges} | {e.customer_id for e in merges}
    people = {
        c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)).options(*LEAN))
    }
    return {
        e.id: why_not_undoable(e, people.get(uuid.UUID(e.changes["source_id"])), people.get(e.customer_id))
        for e in merges
    }


def profile_context(events: list[AuditEvent]) -> dict:
    """The template context for the merge events of a profile's history page (one query at most)."""
    return {
        "merge_actions": MERGE_ACTIONS,
        "merge_action_labels": MERGE_ACTION_LABELS,
        "merge_field_labels": FIELD_LABELS,
        "merge_count_label": rows.label,
        "merge_undo_problems": undo_problems(events),
    }
