"""A search for a stamp card's code finds its customer: one indexed lookup on (business_id, code), run
only when the text is a well-formed code with a valid check character (so a name or a phone number
never costs a query more, and a mistyped code never finds someone else)."""

from sqlalchemy import select

from webapp.extensions import db
from webapp.loyalty.codes import looks_like_code, normalize_code
from webapp.models import Customer, CustomerCard
from webapp.search.conditions import base_conditions
from webapp.search.criteria import Criteria
from webapp.search.rows import LIST_COLUMNS, Results, rows_to_customers

SCANNED_PREFIX = "/cards/"  # a barcode scanner types the QR code's whole URL: its last part is the code


def card_code_of(text: str) -> str | None:
    """The canonical card code the search text is (or a scanned card link ends with), else None."""
    if SCANNED_PREFIX in text:
        text = text.rsplit(SCANNED_PREFIX, 1)[1].split("?", 1)[0].split("#", 1)[0]
    return normalize_code(text) if looks_like_code(text) else None


def card_holder_search(business, c: Criteria, *, columns: tuple = ()) -> Results | None:
    """The customer whose card has the code `c.q` is (alone, within `c`'s filters), or None when the text
    is not a code or no card of the business has it (the caller then searches as usual)."""
    code = card_code_of(c.q)
    if code is None:
        return None
    rows = db.session.execute(
        select(*LIST_COLUMNS, *columns)
        .join(CustomerCard, CustomerCard.customer_id == Customer.id)
        .where(CustomerCard.business_id == business.id, CustomerCard.code == code)
        .where(*base_conditions(business, c))
        .limit(1)
    ).all()
    if not rows:
        return None
    customers, tags = rows_to_customers(rows) if c.page == 1 else ([], {})
    count = len(rows)
    return Results(customers, count, False, c.page, c.limit, False, count, {r.id: 0 for r in customers}, tags)
