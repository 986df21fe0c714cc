"""Record audit events for sensitive changes."""

from flask import g, has_app_context

from webapp.extensions import db
from webapp.models import AuditEvent, Customer, StaffUser


def record(
    actor: StaffUser | None,
    action: str,
    customer: Customer | None = None,
    *,
    business_id: int | None = None,
    actor_label: str | None = None,
    **changes,
) -> AuditEvent:
    """Add an audit event (`changes` must be JSON-serialisable). Caller commits."""
    key = g.get("api_key") if has_app_context() and actor is None else None
    if key is not None and actor_label is None:  # a write made through an API key: the key is the actor
        actor_label = key.label
    if business_id is None:
        business_id = customer.business_id if customer is not None else actor.business_id
    event = AuditEvent(
        business_id=business_id,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label or (actor.display_name if actor is not None else "system"),
        action=action,
        customer_id=customer.id if customer is not None else None,
        changes=changes,
    )
    db.session.add(event)
    return event
