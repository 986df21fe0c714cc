"""One-time tokens of create forms, so a double-clicked (or raced) save creates one customer."""

from webapp.extensions import db
from webapp.models import Customer, FormSubmission


def customer_for_token(business_id: int, token: str | None) -> Customer | None:
    """The customer a create form with this one-time token already made, if any."""
    if not token:
        return None
    row = db.session.get(FormSubmission, token)
    if row is None or row.business_id != business_id or row.customer_id is None:
        return None
    return db.session.get(Customer, row.customer_id)


def remember_token(business_id: int, token: str | None, customer: Customer) -> None:
    """Note that this form token made `customer` (a second submission then finds it)."""
    if token:
        db.session.add(FormSubmission(token=token[:64], business_id=business_id, customer_id=customer.id))
        db.session.flush()
