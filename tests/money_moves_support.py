"""Checks shared by the money move, recount and state-machine tests: every stored balance is the sum of
its rows and the last row's `balance_after` says the same."""

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Customer
from webapp.models.money import CardStamp, CustomerCard, LedgerEntry, PointsTransaction
from webapp.money.recount import wrong_balances


def last_after(model, customer_id):
    """The `balance_after` of the customer's newest row of `model` (None when it has none)."""
    return db.session.scalar(
        select(model.balance_after).where(model.customer_id == customer_id).order_by(model.id.desc()).limit(1)
    )


def assert_books_balance(customer_ids) -> None:
    """Each customer's stored total_spent, total_orders, points_balance and ledger_balance equal the
    sums of its rows; the newest points and ledger rows' balance_after equal the stored balances;
    points are never negative; each card's stamps equal its stamp rows' sum, never below zero, and its
    newest stamp row's stamps_after."""
    db.session.expire_all()
    ids = list(customer_ids)
    assert wrong_balances(customer_ids=ids) == []
    for customer in db.session.scalars(select(Customer).where(Customer.id.in_(ids))):
        assert customer.points_balance >= 0, customer.points_balance
        for model, stored in (
            (PointsTransaction, customer.points_balance),
            (LedgerEntry, customer.ledger_balance),
        ):
            after = last_after(model, customer.id)
            assert after is None or after == stored, (model.__name__, after, stored)
    for card in db.session.scalars(select(CustomerCard).where(CustomerCard.customer_id.in_(ids))):
        assert card.stamps >= 0
        newest = db.session.scalar(
            select(CardStamp.stamps_after)
            .where(CardStamp.card_id == card.id)
            .order_by(CardStamp.id.desc())
            .limit(1)
        )
        assert newest is None or newest == card.stamps, (newest, card.stamps)
        owners = set(db.session.scalars(select(CardStamp.customer_id).where(CardStamp.card_id == card.id)))
        assert owners <= {card.customer_id}, "a card's stamps belong to the card's customer"
