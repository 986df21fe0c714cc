"""Remember a customer's former email and phone (ban evasion); forget everything once anonymized."""

from contextlib import contextmanager

from sqlalchemy import delete, event, inspect
from sqlalchemy.orm import Session

from webapp.models import Customer, CustomerContactHistory, CustomerMatchKey, DuplicateCandidate


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


def _forget(session: Session, customer: Customer) -> None:
    """An anonymized customer leaves no former details, match keys or duplicate pairs behind."""
    session.execute(delete(CustomerContactHistory).where(CustomerContactHistory.customer_id == customer.id))
    session.execute(delete(CustomerMatchKey).where(CustomerMatchKey.customer_id == customer.id))
    session.execute(
        delete(DuplicateCandidate).where(
            (DuplicateCandidate.customer_a_id == customer.id)
            | (DuplicateCandidate.customer_b_id == customer.id)
        )
    )


@event.listens_for(Session, "before_flush")
def remember_former_contacts(session: Session, flush_context, instances) -> None:
    """Before a customer's email or phone changes, keep the old value; forget all once anonymized."""
    quiet = session.info.get("contacts_not_remembered")
    for obj in list(session.dirty):
        if not isinstance(obj, Customer):
            continue
        if obj.anonymized_at is not None:
            _forget(session, obj)
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
