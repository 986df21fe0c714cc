"""Stored phone numbers that the installed phone metadata no longer accepts (`flask check-phones`).

A number is checked when it is typed and kept as it is afterwards (an edit that leaves it alone keeps
it), so a `phonenumbers` upgrade that retires a range (07911 9xxxxx) leaves some stored numbers
invalid: this lists them, reading the customers in keyset-paged chunks of plain columns.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Business, Customer
from webapp.phones import stored_number_is_valid

CHUNK = 5000


@dataclass(frozen=True)
class RetiredPhone:
    """One stored number the current metadata calls invalid."""

    business: str
    customer_id: uuid.UUID
    phone: str


def retired_phones(business_id: int | None = None, chunk: int = CHUNK) -> Iterator[RetiredPhone]:
    """Every stored phone the metadata no longer accepts, by business then customer id."""
    names = dict(db.session.execute(select(Business.id, Business.name)).all())
    for bid in sorted(names) if business_id is None else [business_id]:
        after = None
        while True:
            q = select(Customer.id, Customer.phone).where(
                Customer.business_id == bid, Customer.phone.is_not(None)
            )
            if after is not None:
                q = q.where(Customer.id > after)
            rows = db.session.execute(q.order_by(Customer.id).limit(chunk)).all()
            for customer_id, phone in rows:
                if not stored_number_is_valid(phone):
                    yield RetiredPhone(names.get(bid, str(bid)), customer_id, phone)
            if len(rows) < chunk:
                break
            after = rows[-1][0]
