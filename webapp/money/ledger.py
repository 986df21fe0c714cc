"""The store-credit ledger: on-account sales debit it, payments credit it, managers adjust it.

Each entry is appended with the balance after it; the customer's `ledger_balance` is their sum
(credits minus debits), negative when the customer owes the business.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business, Customer, LedgerEntry
from webapp.money.amounts import MAXIMUM, check_minor
from webapp.money.common import (
    audit,
    check_fits,
    clean_reason,
    locked_customer,
    move_balances,
    require_manager,
    staff_id,
)
from webapp.text import has_control_characters

REFERENCE_MAX = 64
DESCRIPTION_MAX = 255


def check_amount(amount, currency: str, *, signed: bool = False) -> int:
    """An amount of minor units: above zero (or, `signed`, not zero), at most MAXIMUM either way."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Invalid("amount", "Type the amount as a number, like 50.00.")
    if signed and amount == 0:
        raise Invalid(
            "amount", "Type the amount to credit (like 20.00) or debit (like -20.00); 0 changes nothing."
        )
    return check_minor(
        amount, field="amount", currency=currency, allow_zero=False, allow_negative=signed, maximum=MAXIMUM
    )


def clean_text(value: str | None, field: str, limit: int) -> str:
    """A short free text, trimmed, within `limit` characters and without control characters."""
    value = (value or "").strip()
    if len(value) > limit:
        raise Invalid(field, f"Keep this to {limit} characters.")
    if has_control_characters(value):
        raise Invalid(field, "Remove the control character from this field.")
    return value


def record_payment(
    customer: Customer, *, amount: int, actor, reference: str = "", description: str = ""
) -> LedgerEntry:
    """Money received on the customer's account: a credit of `amount` minor units. Caller commits."""
    business = db.session.get(Business, customer.business_id)
    amount = check_amount(amount, business.currency)
    reference = clean_text(reference, "reference", REFERENCE_MAX)
    description = clean_text(description, "description", DESCRIPTION_MAX)
    locked = locked_customer(customer, "amount")
    return append(
        locked, actor, "credit", "payment", amount, description or "Payment received", reference=reference
    )


def adjust_ledger(customer: Customer, *, amount: int, reason: str, actor) -> LedgerEntry:
    """A manager's correction: `amount` above zero credits, below zero debits, with a reason. Caller
    commits. Allowed on an anonymized customer (the amounts stay theirs)."""
    require_manager(actor, "adjust the account")
    business = db.session.get(Business, customer.business_id)
    amount = check_amount(amount, business.currency, signed=True)
    reason = clean_reason(reason)
    locked = locked_customer(customer, "amount", anonymized_ok=True)
    return append(locked, actor, "credit" if amount > 0 else "debit", "adjust", abs(amount), reason)


def append(
    customer: Customer, actor, type_: str, kind: str, amount: int, description: str, *, reference: str = ""
) -> LedgerEntry:
    """Append one entry to the locked customer's ledger and move the stored balance with it."""
    delta = amount if type_ == "credit" else -amount
    after = customer.ledger_balance + delta
    check_fits(after, "amount", "the account balance")
    entry = LedgerEntry(
        business_id=customer.business_id,
        customer_id=customer.id,
        type=type_,
        kind=kind,
        amount=amount,
        balance_after=after,
        description=description[:DESCRIPTION_MAX],
        reference_id=reference,
        created_by_id=staff_id(actor),
    )
    db.session.add(entry)
    move_balances(customer, ledger_balance=delta)
    audit(
        actor,
        f"ledger.{kind}",
        customer,
        type=type_,
        amount=amount,
        balance_after=after,
        **({"reason": description} if kind == "adjust" else {}),
        **({"reference": reference} if reference else {}),
    )
    db.session.flush()
    return entry


def day_start(business: Business, day: date) -> datetime:
    """Midnight of `day` in the business's timezone, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(business.timezone or "UTC"))


def ledger_entries(
    customer: Customer, *, start: date | None = None, end: date | None = None
) -> list[LedgerEntry]:
    """The customer's entries, oldest first, from the start of `start` to the end of `end` (both days
    included, in the business's timezone; either may be left open)."""
    business = db.session.get(Business, customer.business_id)
    query = select(LedgerEntry).where(
        LedgerEntry.business_id == customer.business_id, LedgerEntry.customer_id == customer.id
    )
    if start is not None:
        query = query.where(LedgerEntry.created_at >= day_start(business, start))
    if end is not None and end < date.max:
        query = query.where(LedgerEntry.created_at < day_start(business, end + timedelta(days=1)))
    return list(db.session.scalars(query.order_by(LedgerEntry.id)))
