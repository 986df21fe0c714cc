"""The picker's rules: which customers may be picked, and a manager's audited blacklist override."""

from sqlalchemy import select

from webapp.audit import record
from webapp.errors import Invalid, NotFound
from webapp.extensions import db
from webapp.models import AuditEvent, Customer, StaffUser
from webapp.text import has_control_characters

OVERRIDE = "customer.blacklist_override"
MAX_REASON = 500


def pickable(customer: Customer | None) -> Customer | None:
    """The customer when it may be picked (it exists and was not merged into another), else None."""
    if customer is None or customer.merged_into_id is not None:
        return None
    return customer


def override_blacklist(customer: Customer, actor: StaffUser, reason: str | None) -> AuditEvent:
    """Let a blacklisted customer be booked this once, for a stated reason (audited). Caller commits.
    Raises NotFound for a customer who cannot be picked, Invalid without a reason."""
    if pickable(customer) is None:
        raise NotFound()
    if has_control_characters(reason):
        raise Invalid("override_reason", "Remove the control character (such as a NUL byte) from the reason.")
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise Invalid("override_reason", "Say why this customer may be booked despite the blacklist.")
    event = record(actor, OVERRIDE, customer, reason=reason)
    db.session.flush()
    return event


def granted_override(customer: Customer, event_id: int | None) -> int | None:
    """`event_id` when it is a manager's blacklist override for this very customer, else None."""
    if event_id is None:
        return None
    return db.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.id == event_id,
            AuditEvent.business_id == customer.business_id,
            AuditEvent.customer_id == customer.id,
            AuditEvent.action == OVERRIDE,
        )
    )
