"""The owner's Activity screen: staff and settings events (audit events about no customer)."""

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import Select, select

from webapp.auth import bp
from webapp.edge import page_number, page_of
from webapp.models import AuditEvent
from webapp.security import role_required

PER_PAGE = 50

ACTION_LABELS = {
    "staff.signed_in": "Signed in",
    "staff.sign_in_failed": "Failed sign-in",
    "staff.signed_out": "Signed out",
    "staff.password_changed": "Changed their password",
    "staff.password_reset": "Reset a colleague's password",
    "staff.added": "Added a staff member",
    "staff.changed": "Changed a staff member",
    "business.updated": "Changed the business's details",
    "location.added": "Added a location",
    "location.renamed": "Renamed a location",
    "location.activated": "Reactivated a location",
    "location.deactivated": "Deactivated a location",
}


def activity_statement(business_id: int) -> Select:
    """The business's events that concern no customer, newest first."""
    return (
        select(AuditEvent)
        .where(AuditEvent.business_id == business_id, AuditEvent.customer_id.is_(None))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )


@bp.get("/settings/activity")
@role_required("owner")
def activity():
    """Who signed in, failed to, signed out, changed passwords and settings: newest first."""
    page = page_of(
        activity_statement(current_user.business_id), page_number(request.args.get("page")), PER_PAGE
    )
    return render_template("settings/activity.html", page=page, labels=ACTION_LABELS)
