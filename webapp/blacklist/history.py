"""What the customer profile shows of blacklisting: its history events' labels and who restricted."""

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Customer, StaffUser

BLACKLIST_ACTION_LABELS = {
    "customer.blacklisted": "Blacklisted",
    "customer.blacklist_changed": "Restriction changed",
    "customer.unblacklisted": "Removed from blacklist",
    "customer.blacklist_reviewed": "Restriction reviewed",
}
BLACKLIST_ACTIONS = tuple(BLACKLIST_ACTION_LABELS)
FORMER_STAFF = "a former staff member"


def staff_names(ids) -> dict[int, str]:
    """Display names of staff members by id, in one query (none for no ids)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    users = db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
    return {u.id: u.display_name for u in users}


def profile_context(customer: Customer) -> dict:
    """The template context for the profile's blacklist panel and blacklist events (one query at most)."""
    names = staff_names([customer.blacklisted_by_id, customer.blacklist_reviewed_by_id])
    return {
        "blacklist_actions": BLACKLIST_ACTIONS,
        "blacklist_action_labels": BLACKLIST_ACTION_LABELS,
        "restriction_staff": names,
    }
