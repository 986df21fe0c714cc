"""The money parts of a person's data export (person.py): sales with their reversals,
points transactions, stamp cards with their stamps, store-credit entries — every row, oldest first."""

from sqlalchemy import select

from webapp.exports.person import plain, record_of, section
from webapp.extensions import db
from webapp.models import (
    CardProgram,
    CardStamp,
    CustomerCard,
    LedgerEntry,
    PointsTransaction,
    Sale,
    SaleReversal,
)


@section("sales")
def sales_section(customer, ids: list) -> list:
    """Every sale, with its void or refund when it has one."""
    rows = db.session.execute(
        select(Sale, SaleReversal)
        .outerjoin(SaleReversal, SaleReversal.sale_id == Sale.id)
        .where(Sale.business_id == customer.business_id, Sale.customer_id.in_(ids))
        .order_by(Sale.created_at, Sale.id)
    ).all()
    return [
        {
            **record_of(sale),
            "reversal": None
            if reversal is None
            else {
                "kind": reversal.kind,
                "amount": reversal.amount,
                "reason": reversal.reason,
                "at": plain(reversal.created_at),
            },
        }
        for sale, reversal in rows
    ]


@section("points")
def points_section(customer, ids: list) -> list:
    """Every points transaction (earned, redeemed, adjusted, clawed back, moved by a merge)."""
    rows = db.session.scalars(
        select(PointsTransaction)
        .where(PointsTransaction.business_id == customer.business_id, PointsTransaction.customer_id.in_(ids))
        .order_by(PointsTransaction.id)
    )
    return [record_of(r) for r in rows]


@section("cards")
def cards_section(customer, ids: list) -> list:
    """Every stamp card with its program's name and each stamp movement."""
    b = customer.business_id
    cards = db.session.execute(
        select(CustomerCard, CardProgram.name)
        .join(CardProgram, CardProgram.id == CustomerCard.program_id)
        .where(CustomerCard.business_id == b, CustomerCard.customer_id.in_(ids))
        .order_by(CustomerCard.id)
    ).all()
    stamps: dict[int, list] = {}
    if cards:
        for s in db.session.scalars(
            select(CardStamp)
            .where(CardStamp.business_id == b, CardStamp.card_id.in_([c.id for c, _ in cards]))
            .order_by(CardStamp.id)
        ):
            stamps.setdefault(s.card_id, []).append(record_of(s))
    return [
        {**record_of(card), "program": name, "stamp_history": stamps.get(card.id, [])} for card, name in cards
    ]


@section("ledger")
def ledger_section(customer, ids: list) -> list:
    """Every store-credit entry with the balance after it."""
    rows = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.business_id == customer.business_id, LedgerEntry.customer_id.in_(ids))
        .order_by(LedgerEntry.id)
    )
    return [record_of(r) for r in rows]
