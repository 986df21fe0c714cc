"""Who else in the book this could be: the owner of a taken email or phone, and look-alike names."""

from datetime import date

from sqlalchemy import and_, func, or_, select

from webapp.customers.fields import clean_text, names_similar
from webapp.extensions import db
from webapp.models import Customer
from webapp.text import fold


def find_contact_owner(
    business_id: int, *, email: str | None = None, phone: str | None = None, exclude=None
) -> Customer | None:
    """The customer who already has this (normalized) email or E.164 phone, if any."""
    if email is None and phone is None:
        return None
    cond = Customer.email_normalized == email if email is not None else Customer.phone == phone
    stmt = select(Customer).where(Customer.business_id == business_id, cond)
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    return db.session.scalars(stmt.limit(1)).first()


def find_similar(
    business_id: int, first_name: str, last_name: str, dob: date | None, exclude=None
) -> list[Customer]:
    """Customers who may be the same person: a very similar name (accents and case aside) with the
    same birth date, or the same full name where one of the two has no birth date."""
    full = f"{clean_text(first_name)} {clean_text(last_name)}".strip()
    if not full:
        return []
    same_length = and_(
        func.length(Customer.first_name) == len(clean_text(first_name)),
        func.length(Customer.last_name) == len(clean_text(last_name)),
    )
    cond = or_(Customer.date_of_birth == dob, same_length) if dob else same_length
    # Plain columns first (no entity loading), then the few matches as customers.
    stmt = select(Customer.id, Customer.first_name, Customer.last_name, Customer.date_of_birth).where(
        Customer.business_id == business_id,
        Customer.merged_into_id.is_(None),
        Customer.anonymized_at.is_(None),
        cond,
    )
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    target = fold(full)
    ids = []
    for cid, first, last, born in db.session.execute(stmt):
        name = f"{first} {last}"
        if (dob and born == dob and names_similar(name, full)) or (
            (dob is None or born is None) and fold(name) == target
        ):
            ids.append(cid)
    if not ids:
        return []
    found = db.session.scalars(
        select(Customer).where(Customer.id.in_(ids[:50])).order_by(Customer.created_at)
    ).all()
    return found[:10]
