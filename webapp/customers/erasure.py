"""Removing a customer: delete one with no history, anonymize one whose bookings and totals must stay."""

from sqlalchemy import exists, select

from webapp import signals
from webapp.audit import record
from webapp.customers.fields import FIELDS
from webapp.customers.links import replace_tags
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Customer, StaffUser

# Values an audit event may hold that identify the person.
PERSONAL_FIELDS = FIELDS + ("dummy_label", "email_normalized", "placeholder")
WIPED_TEXT = ("first_name", "last_name", "company", "address", "notes", "custom_field_value", "dummy_label")


def has_history(customer: Customer) -> bool:
    """True when other records point at this customer (bookings; sales to come; merged records)."""
    checks = [
        exists().where(Booking.business_id == customer.business_id, Booking.customer_id == customer.id),
        exists().where(Customer.business_id == customer.business_id, Customer.merged_into_id == customer.id),
    ]
    return any(db.session.scalar(select(check)) for check in checks)


def delete_or_anonymize(customer: Customer, actor: StaffUser | None) -> str:
    """Delete a customer with no history; anonymize one with history (personal data wiped, bookings and
    totals kept). Returns "deleted" or "anonymized"; a deletion is announced first (`customer_deleting`)."""
    if has_history(customer):
        anonymize(customer, actor)
        return "anonymized"
    record(actor, "customer.deleted", customer, was_placeholder=customer.is_dummy)
    scrub_history(customer)
    signals.customer_deleting.send(customer)
    db.session.delete(customer)
    db.session.flush()
    return "deleted"


def anonymize(customer: Customer, actor: StaffUser | None) -> None:
    """Wipe the personal data of a customer whose bookings and totals must stay; announces
    `customer_anonymized` so other features forget what they keep about the person."""
    if customer.anonymized_at is not None:
        return
    for f in WIPED_TEXT:
        setattr(customer, f, "")
    customer.email = customer.email_normalized = customer.phone = None
    customer.date_of_birth = None
    replace_tags(customer, [])
    customer.consents = []
    customer.anonymized_at = utcnow()
    scrub_history(customer)
    record(actor, "customer.anonymized", customer)
    db.session.flush()
    signals.customer_anonymized.send(customer)


def scrub_history(customer: Customer) -> None:
    """Remove personal values from the customer's earlier audit events (the events themselves stay)."""
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.business_id == customer.business_id, AuditEvent.customer_id == customer.id
        )
    )
    for event in events:
        if any(k in PERSONAL_FIELDS for k in event.changes or {}):
            event.changes = {
                k: ("(removed)" if k in PERSONAL_FIELDS else v) for k, v in event.changes.items()
            }
