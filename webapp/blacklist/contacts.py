"""Remember a customer's former email and phone, so a blacklisted person cannot return under old details."""

from contextlib import contextmanager

from sqlalchemy import delete, event, inspect
from sqlalchemy.orm import Session

from webapp.models import Customer, CustomerContactHistory


def _former(customer: Customer, attr: str):
    history = inspect(customer).attrs[attr].history
    return next((v for v in history.deleted if v), None) if history.has_changes() else None


@contextmanager
def not_remembered(session: Session):
    """Contact changes made inside are not former details (a merge and its undo record their own)."""
    session.info["contacts_not_remembered"] = True
    try:
        yield
    finally:
        session.info.pop("contacts_not_remembered", None)


@event.listens_for(Session, "before_flush")
def remember_former_contacts(session: Session, flush_context, instances) -> None:
    """Before a customer's email or phone changes, keep the old value; forget all once anonymized."""
    quiet = session.info.get("contacts_not_remembered")
    for obj in list(session.dirty):
        if not isinstance(obj, Customer):
            continue
        if obj.anonymized_at is not None:
            session.execute(
                delete(CustomerContactHistory).where(CustomerContactHistory.customer_id == obj.id)
            )
            continue
        if quiet:
            continue
        email, phone = _former(obj, "email_normalized"), _former(obj, "phone")
        if email or phone:
            session.add(
                CustomerContactHistory(
                    business_id=obj.business_id, customer_id=obj.id, email_normalized=email, phone=phone
                )
            )
