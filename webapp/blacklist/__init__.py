"""Blacklist: restrict customers, review and lift restrictions."""

from flask import Blueprint, url_for

bp = Blueprint("blacklist", __name__)


@bp.app_template_global()
def customer_url(customer) -> str:
    """The customer's profile (or the customer list until the profile screen exists)."""
    from flask import current_app

    if "customers.profile" in current_app.view_functions:
        return url_for("customers.profile", customer_id=customer.id)
    return url_for("customers.search", q=customer.email or customer.phone or customer.full_name)


@bp.app_template_global()
def staff_display_name(staff_id: int | None) -> str:
    """A staff member's display name (for "by whom" lines)."""
    if not staff_id:
        return ""
    from webapp.extensions import db
    from webapp.models import StaffUser

    user = db.session.get(StaffUser, staff_id)
    return user.display_name if user else "a former staff member"


BLACKLIST_ACTION_LABELS = {
    "customer.blacklisted": "Blacklisted",
    "customer.blacklist_changed": "Restriction changed",
    "customer.unblacklisted": "Removed from blacklist",
    "customer.blacklist_reviewed": "Restriction reviewed",
}
BLACKLIST_ACTIONS = tuple(BLACKLIST_ACTION_LABELS)


@bp.app_context_processor
def blacklist_event_actions() -> dict:
    """The audit actions the blacklist feature renders itself in a customer's history."""
    return {"blacklist_actions": BLACKLIST_ACTIONS, "blacklist_action_labels": BLACKLIST_ACTION_LABELS}


from webapp.blacklist import contacts, views  # noqa: E402,F401
