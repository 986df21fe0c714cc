"""Every stored money balance checked against its rows and repaired: the customers' `total_spent`,
`total_orders`, `points_balance` and `ledger_balance`, and each stamp card's `stamps`.

The rows are the truth (append-only, see webapp/models/money.py); a stored balance is only a copy of
their sum kept for lists and sorting. After raw SQL, a restore or a bug, `flask recount` calls
`recount_money` to put every copy right again, and the merge and its undo call it for the two customers
whose rows moved. Set-based: one UPDATE for the customers and one for the cards, whatever their number,
and only rows that are wrong are written (so what they return is the answer).
"""

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Customer
from webapp.models.money import CardStamp, CustomerCard, LedgerEntry, PointsTransaction, Sale, SaleReversal

BALANCES = ("total_spent", "total_orders", "points_balance", "ledger_balance")


def not_reversed(sale=Sale):
    """SQL: the sale has no void or refund (a reversed sale counts neither in spend nor in orders)."""
    return ~select(SaleReversal.id).where(SaleReversal.sale_id == sale.id).exists()


def signed_amount():
    """SQL: a ledger entry's effect on the balance (a credit adds, a debit takes away)."""
    return case((LedgerEntry.type == "credit", LedgerEntry.amount), else_=-LedgerEntry.amount)


def truth_of(customer) -> dict:
    """Each balance of `customer` (a Customer entity or alias) as the correlated sum of its rows."""
    sales = (Sale.business_id == customer.business_id, Sale.customer_id == customer.id, not_reversed())
    points = (
        PointsTransaction.business_id == customer.business_id,
        PointsTransaction.customer_id == customer.id,
    )
    ledger = (LedgerEntry.business_id == customer.business_id, LedgerEntry.customer_id == customer.id)
    return {
        "total_spent": select(func.coalesce(func.sum(Sale.total), 0)).where(*sales).scalar_subquery(),
        "total_orders": select(func.count(Sale.id)).where(*sales).scalar_subquery(),
        "points_balance": select(func.coalesce(func.sum(PointsTransaction.points), 0))
        .where(*points)
        .scalar_subquery(),
        "ledger_balance": select(func.coalesce(func.sum(signed_amount()), 0))
        .where(*ledger)
        .scalar_subquery(),
    }


def truth_query(business_id: int | None = None, customer_ids=None):
    """One row per customer in scope: its id and what each balance must be."""
    c = aliased(Customer, name="c")
    query = select(c.id.label("id"), *(expr.label(name) for name, expr in truth_of(c).items()))
    if business_id is not None:
        query = query.where(c.business_id == business_id)
    if customer_ids is not None:
        query = query.where(c.id.in_(list(customer_ids)))
    return query


def recount_money(business_id: int | None = None, customer_ids=None) -> int:
    """Set every stored money balance to the sum of its rows; returns how many customers were wrong
    (their own balances or the stamps of one of their cards). Caller commits.

    Merged-away customers are in scope too: a pointer holds no rows, so its balances are zero."""
    truth = truth_query(business_id, customer_ids).subquery("truth")
    wrong = or_(*(getattr(Customer, name).is_distinct_from(truth.c[name]) for name in BALANCES))
    fixed = set(
        db.session.scalars(
            update(Customer)
            .where(Customer.id == truth.c.id, wrong)
            .values(updated_at=Customer.updated_at, **{name: truth.c[name] for name in BALANCES})
            .returning(Customer.id)
            .execution_options(synchronize_session=False)
        )
    )
    fixed |= set(recount_cards(business_id, customer_ids))
    forget_balances()
    return len(fixed)


def recount_cards(business_id: int | None = None, customer_ids=None) -> list:
    """Set each card's stamps to the sum of its stamp rows; returns the owners of the cards that were
    wrong. Caller commits."""
    stamps = (
        select(func.coalesce(func.sum(CardStamp.stamps), literal(0)))
        .where(CardStamp.card_id == CustomerCard.id)
        .scalar_subquery()
    )
    scope = [CustomerCard.stamps.is_distinct_from(stamps)]
    if business_id is not None:
        scope.insert(0, CustomerCard.business_id == business_id)
    if customer_ids is not None:
        scope.insert(0, CustomerCard.customer_id.in_(list(customer_ids)))
    return list(
        db.session.scalars(
            update(CustomerCard)
            .where(and_(*scope))
            .values(stamps=stamps)
            .returning(CustomerCard.customer_id)
            .execution_options(synchronize_session=False)
        )
    )


def wrong_balances(business_id: int | None = None, customer_ids=None) -> list[tuple]:
    """(customer id, balance name, stored, sum of rows) for every stored balance that is wrong, and
    (card id, "stamps", stored, sum) for every card: what a check reports (tests, the command)."""
    truth = truth_query(business_id, customer_ids).subquery("truth")
    found = []
    rows = db.session.execute(
        select(Customer.id, *(getattr(Customer, n) for n in BALANCES), *(truth.c[n] for n in BALANCES)).where(
            Customer.id == truth.c.id
        )
    )
    for row in rows:
        for i, name in enumerate(BALANCES):
            stored, want = row[1 + i], row[1 + len(BALANCES) + i]
            if stored != want:
                found.append((row[0], name, stored, want))
    stamps = func.coalesce(func.sum(CardStamp.stamps), 0)
    cards = (
        select(CustomerCard.id, CustomerCard.stamps, stamps)
        .outerjoin(CardStamp, CardStamp.card_id == CustomerCard.id)
        .group_by(CustomerCard.id, CustomerCard.stamps)
    )
    if business_id is not None:
        cards = cards.where(CustomerCard.business_id == business_id)
    if customer_ids is not None:
        cards = cards.where(CustomerCard.customer_id.in_(list(customer_ids)))
    found += [
        (card_id, "stamps", stored, want)
        for card_id, stored, want in db.session.execute(cards)
        if stored != want
    ]
    return found


def forget_balances() -> None:
    """Make the session's loaded customers and cards reload what a set-based UPDATE changed (expiring
    attributes does not touch a customer's `version`)."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Customer):
            db.session.expire(obj, [*BALANCES, "updated_at"])
        elif isinstance(obj, CustomerCard):
            db.session.expire(obj, ["stamps"])
