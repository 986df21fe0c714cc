"""Sales: record one (receipt number, points earned, on account), void or refund it, list them.

A customer's `total_spent` means one thing: the sum of their sales that were not reversed, and
`total_orders` their count. Bookings do not count spend; completing a booking with a price records its
sale (webapp/money/receivers.py), so a visit's spend is counted once, here.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Booking, Business, Customer, LedgerEntry, PointsTransaction, Sale, SaleReversal
from webapp.models.locks import lock_customer, savepoint
from webapp.models.money import REVERSAL_KINDS
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
from webapp.money.points import points_for
from webapp.money.receipts import next_receipt_number
from webapp.text import has_control_characters

RECEIPT_MAX = 40
DESCRIPTION_MAX = 255
KIND_WORDS = {"void": "voided", "refund": "refunded"}
BOOKING_PAID = "That booking already has its sale; a booking is paid for once."


def record_sale(
    customer: Customer,
    *,
    total: int,
    actor,
    receipt_number: str | None = None,
    on_account: bool = False,
    booking: Booking | None = None,
    description: str = "",
) -> Sale:
    """Record a sale of `total` minor units to the customer. Caller commits.

    The receipt number is generated (REC-YYYYMMDD-NNN) unless typed; it earns points at the business's
    rate; on account, it debits the store-credit ledger; a booking has at most one sale."""
    business = db.session.get(Business, customer.business_id)
    total = check_total(total, business.currency)
    typed = clean_receipt(receipt_number)
    description = clean_description(description)
    locked = locked_customer(customer, "total")
    if booking is not None:
        check_booking(locked, booking)
    check_fits(locked.total_spent + total, "total", "the customer's total spent")
    if on_account:
        check_fits(locked.ledger_balance - total, "total", "the customer's account")
    points = points_for(business, total)
    check_fits(locked.points_balance + points, "total", "the customer's points")
    sale = Sale(
        business_id=business.id,
        customer_id=locked.id,
        total=total,
        on_account=bool(on_account),
        booking_id=booking.id if booking is not None else None,
        points_earned=points,
        description=description,
        created_by_id=staff_id(actor),
    )
    insert_with_receipt(sale, business, typed)
    add_sale_rows(sale, locked, actor)
    debt = -total if on_account else 0
    move_balances(locked, total_spent=total, total_orders=1, points_balance=points, ledger_balance=debt)
    audit(actor, "sale.recorded", locked, **sale_facts(sale))
    db.session.flush()
    return sale


def add_sale_rows(sale: Sale, customer: Customer, actor) -> None:
    """The rows a sale appends to the locked customer's accounts: its points, its on-account debit."""
    if sale.points_earned:
        db.session.add(
            PointsTransaction(
                business_id=sale.business_id,
                customer_id=customer.id,
                kind="earn",
                points=sale.points_earned,
                balance_after=customer.points_balance + sale.points_earned,
                sale_id=sale.id,
                created_by_id=staff_id(actor),
            )
        )
    if sale.on_account:
        db.session.add(
            LedgerEntry(
                business_id=sale.business_id,
                customer_id=customer.id,
                type="debit",
                kind="sale",
                amount=sale.total,
                balance_after=customer.ledger_balance - sale.total,
                description=sale.description or f"Sale {sale.receipt_number}",
                reference_id=str(sale.id),
                sale_id=sale.id,
                created_by_id=staff_id(actor),
            )
        )


def check_total(total, currency: str) -> int:
    """A sale's total: a whole number of minor units, above zero, at most MAXIMUM."""
    if isinstance(total, bool) or not isinstance(total, int):
        raise Invalid("total", "Type the total as an amount, like 12.50.")
    return check_minor(
        total, field="total", currency=currency, allow_zero=False, allow_negative=False, maximum=MAXIMUM
    )


def clean_receipt(receipt_number: str | None) -> str | None:
    """A typed receipt number trimmed (None when blank: one is generated), at most 40 characters."""
    typed = (receipt_number or "").strip()
    if not typed:
        return None
    if len(typed) > RECEIPT_MAX:
        raise Invalid("receipt_number", f"Keep the receipt number to {RECEIPT_MAX} characters.")
    if has_control_characters(typed):
        raise Invalid("receipt_number", "Remove the control character from the receipt number.")
    return typed


def clean_description(description: str | None) -> str:
    """What was sold, trimmed, within the column."""
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid("description", f"Keep the description to {DESCRIPTION_MAX} characters.")
    if has_control_characters(description):
        raise Invalid("description", "Remove the control character from the description.")
    return description


def check_booking(customer: Customer, booking: Booking) -> None:
    """The booking is this customer's, not cancelled, and has no sale yet."""
    if booking.business_id != customer.business_id or booking.customer_id != customer.id:
        raise Invalid("booking_id", "That booking is not this customer's.")
    if booking.status == "cancelled":
        raise Invalid("booking_id", "That booking was cancelled; a sale cannot pay for it.")
    if booking_has_sale(booking):
        raise Invalid("booking_id", BOOKING_PAID)


def booking_has_sale(booking: Booking) -> bool:
    """True when a sale already pays for this booking."""
    return booking_taken(booking.business_id, booking.id)


def booking_taken(business_id: int, booking_id) -> bool:
    """True when the business has a sale for this booking."""
    return bool(
        db.session.scalar(
            select(exists().where(Sale.business_id == business_id, Sale.booking_id == booking_id))
        )
    )


def receipt_taken(business_id: int, number: str) -> bool:
    """True when the business already has a sale with this receipt number."""
    return bool(
        db.session.scalar(
            select(exists().where(Sale.business_id == business_id, Sale.receipt_number == number))
        )
    )


GENERATE_TRIES = 20  # generated numbers skip ones typed by hand; twenty typed in a row is not a till


def insert_with_receipt(sale: Sale, business: Business, typed: str | None) -> None:
    """Give the sale its receipt number and insert it in a savepoint, so a number (or a booking) taken
    by a sale committed meanwhile is a message on its field, not a failed transaction."""
    for _ in range(1 if typed else GENERATE_TRIES):
        number = typed or next_receipt_number(business)
        if receipt_taken(business.id, number):
            if typed:
                raise Invalid("receipt_number", f"Receipt number {number} is already used by another sale.")
            continue
        sale.receipt_number = number
        try:
            with savepoint():
                db.session.add(sale)
                db.session.flush()
        except IntegrityError:
            if sale.booking_id is not None and booking_taken(business.id, sale.booking_id):
                raise Invalid("booking_id", BOOKING_PAID) from None
            if typed:
                raise Invalid(
                    "receipt_number", f"Receipt number {number} is already used by another sale."
                ) from None
            continue
        return
    raise Invalid("receipt_number", "Could not number this receipt; type a receipt number.")


def sale_facts(sale: Sale) -> dict:
    """A sale as its audit events record it."""
    return {
        "sale_id": str(sale.id),
        "receipt_number": sale.receipt_number,
        "total": sale.total,
        "on_account": sale.on_account,
        "points_earned": sale.points_earned,
        **({"booking_id": str(sale.booking_id)} if sale.booking_id else {}),
    }


def reverse_sale(sale: Sale, *, kind: str, reason: str, actor) -> SaleReversal:
    """Void (a mistake) or refund (money given back) a whole sale, by a manager with a reason. Caller
    commits. Takes the sale out of total spent and orders, claws back the points it earned (as many as
    the customer still has: the balance never goes below zero) and credits the account back if it was
    on account. A sale is reversed once; a second attempt is refused."""
    require_manager(actor, "void or refund a sale")
    if kind not in REVERSAL_KINDS:
        raise Invalid("kind", "Choose void or refund.")
    reason = clean_reason(reason)
    locked = lock_customer(sale.customer_id)
    if locked is None:
        raise Invalid(None, "This sale's customer was removed from the book meanwhile.")
    already = reversal_of(sale)
    if already is not None:
        raise Invalid(None, already_message(already))
    reversal = SaleReversal(
        business_id=sale.business_id,
        sale_id=sale.id,
        kind=kind,
        amount=sale.total,
        reason=reason,
        created_by_id=staff_id(actor),
    )
    try:
        with savepoint():
            db.session.add(reversal)
            db.session.flush()
    except IntegrityError:
        raise Invalid(None, "This sale was reversed by someone else just now.") from None
    clawed = claw_back(sale, locked, reason, actor)
    if sale.on_account:
        credit_back(sale, locked, kind, actor)
    move_balances(
        locked,
        total_spent=-sale.total,
        total_orders=-1,
        points_balance=-clawed,
        ledger_balance=sale.total if sale.on_account else 0,
    )
    short = sale.points_earned - clawed
    audit(
        actor,
        f"sale.{'voided' if kind == 'void' else 'refunded'}",
        locked,
        **sale_facts(sale),
        reason=reason,
        points_clawed_back=clawed,
        **({"points_not_clawed_back": short} if short else {}),
    )
    set_committed_value(sale, "reversal", reversal)  # shown without a query (lazy SQL raises)
    db.session.flush()
    return reversal


def claw_back(sale: Sale, customer: Customer, reason: str, actor) -> int:
    """Take back the points the sale earned, as many as the locked customer still has; how many."""
    clawed = min(sale.points_earned, customer.points_balance)
    if clawed:
        db.session.add(
            PointsTransaction(
                business_id=sale.business_id,
                customer_id=customer.id,
                kind="clawback",
                points=-clawed,
                balance_after=customer.points_balance - clawed,
                sale_id=sale.id,
                reason=reason,
                created_by_id=staff_id(actor),
            )
        )
    return clawed


def credit_back(sale: Sale, customer: Customer, kind: str, actor) -> None:
    """An on-account sale reversed: credit its total back to the locked customer's account."""
    db.session.add(
        LedgerEntry(
            business_id=sale.business_id,
            customer_id=customer.id,
            type="credit",
            kind="reversal",
            amount=sale.total,
            balance_after=customer.ledger_balance + sale.total,
            description=f"Sale {sale.receipt_number} {KIND_WORDS[kind]}",
            reference_id=str(sale.id),
            sale_id=sale.id,
            created_by_id=staff_id(actor),
        )
    )


def reversal_of(sale: Sale) -> SaleReversal | None:
    """The sale's reversal as committed (read fresh under the customer's lock), if any."""
    return db.session.scalar(select(SaleReversal).where(SaleReversal.sale_id == sale.id))


def already_message(reversal: SaleReversal) -> str:
    """Why a reversed sale cannot be reversed again."""
    return f"This sale was already {KIND_WORDS.get(reversal.kind, 'reversed')}; a sale is reversed once."


def sales_of(customer: Customer, *, limit: int = 10, offset: int = 0) -> list[Sale]:
    """The customer's sales, newest first, each with its reversal (one query)."""
    return list(
        db.session.scalars(
            select(Sale)
            .where(Sale.business_id == customer.business_id, Sale.customer_id == customer.id)
            .order_by(Sale.created_at.desc(), Sale.id.desc())
            .options(joinedload(Sale.reversal))
            .limit(limit)
            .offset(offset)
        )
    )


def sale_for(business_id: int, sale_id) -> Sale | None:
    """The business's sale with this id (a UUID or its text), with its reversal; None otherwise."""
    try:
        key = sale_id if isinstance(sale_id, uuid.UUID) else uuid.UUID(str(sale_id))
    except (TypeError, ValueError):
        return None
    return db.session.scalar(
        select(Sale)
        .where(Sale.id == key, Sale.business_id == business_id)
        .options(joinedload(Sale.reversal))
        .execution_options(populate_existing=True)
    )
