"""Money follows its customer: what a merge, its undo and an anonymization do to sales, points, stamp
cards and the store-credit ledger.

A merge moves every row of the duplicate to the survivor (webapp/merge/rows.py re-points each table
with a `customer_id` in one UPDATE and keeps the moved ids in the merge's audit event, which is how its
undo knows which rows to move back). A sale's reversal follows its sale (it has no customer of its
own); a card moves whole, its stamp rows with it. What this module adds:

- the balances follow the rows: after a move both customers' stored `total_spent`, `total_orders`,
  `points_balance` and `ledger_balance` are set to the sums of their rows (`recount_money`), and a
  "move" marker row (0 points, or a 0 credit) is appended to each customer whose points or ledger rows
  moved in or out and who still has some, with the new balance as its `balance_after`, so the last
  row's `balance_after` always equals the stored balance;
- an undo also moves back what was written on the survivor since the merge about the duplicate's own
  sales and cards (a refund's clawback and credit, stamps added to its card), so a sale, its points and
  its ledger rows stay with one customer; and it is refused, with the reason, when the points moved
  back have been spent since (a balance never goes below zero);
- anonymizing keeps every amount and wipes the free text typed about the person.
"""

import uuid

from sqlalchemy import insert, select, true, update

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Customer, StaffUser
from webapp.models.money import CardStamp, CustomerCard, LedgerEntry, PointsTransaction, Sale, SaleReversal
from webapp.money.recount import recount_money

MERGE_NOTE = "Merge: the balance now includes the merged duplicate's rows"
UNDO_NOTE = "Merge undone: the duplicate's rows moved back"


def settle(business_id: int, customers: list[Customer], moved: dict | None, actor, note: str) -> dict:
    """Make the customers' stored balances the sums of their rows and append a "move" marker where
    points or ledger rows moved (`moved`: table name -> ids; None: maybe both). Refuses (Invalid) a
    result with negative points, naming who. Returns {customer id: (points_balance, ledger_balance)}.
    Caller commits."""
    ids = [c.id for c in customers]
    recount_money(business_id, ids)
    rows = db.session.execute(
        select(
            Customer.id,
            Customer.points_balance,
            Customer.ledger_balance,
            exists_for(PointsTransaction).label("has_points"),
            exists_for(LedgerEntry).label("has_ledger"),
        ).where(Customer.business_id == business_id, Customer.id.in_(ids))
    ).all()
    for row in rows:
        if row.points_balance < 0:
            raise Invalid(None, below_zero(row.id, row.points_balance, customers))
    moved = dict.fromkeys(("points_transaction", "ledger_entry"), True) if moved is None else moved
    by = actor.id if isinstance(actor, StaffUser) else None
    points, ledger = [], []
    for row in rows:
        base = {"business_id": business_id, "customer_id": row.id, "kind": "move", "created_by_id": by}
        if moved.get("points_transaction") and row.has_points:
            points.append({**base, "points": 0, "balance_after": row.points_balance, "reason": note})
        if moved.get("ledger_entry") and row.has_ledger:
            ledger.append(
                {
                    **base,
                    "type": "credit",
                    "amount": 0,
                    "balance_after": row.ledger_balance,
                    "description": note,
                }
            )
    if points:
        db.session.execute(insert(PointsTransaction), points)
    if ledger:
        db.session.execute(insert(LedgerEntry), ledger)
    return {row.id: (row.points_balance, row.ledger_balance) for row in rows}


def exists_for(model):
    """SQL: the customer (of the enclosing query) has a row of `model`."""
    return (
        select(model.id)
        .where(model.business_id == Customer.business_id, model.customer_id == Customer.id)
        .exists()
    )


def below_zero(customer_id: uuid.UUID, balance: int, customers: list[Customer]) -> str:
    """Why a move would take a customer's points below zero (only an undo can: the survivor spent
    points the duplicate brought), and what the manager can do."""
    who = next(c for c in customers if c.id == customer_id)
    other = next((c for c in customers if c.id != customer_id), who)
    return (
        f"{who.display_name} has used {-balance:,} of the points that came with {other.display_name} "
        f"since the merge: undoing it would leave {who.display_name} with {balance:,} points, and a points "
        f"balance never goes below zero. Adjust {who.display_name}'s points by +{-balance:,} first if "
        "that is right, or keep the merge."
    )


def after_merge(survivor: Customer, source: Customer, moved: dict | None, actor) -> None:
    """The duplicate's rows are the survivor's now (moved by the merge): balances and markers follow."""
    settle(survivor.business_id, [source, survivor], moved, actor, MERGE_NOTE)


def follow_back(business_id: int, source_id: uuid.UUID, target_id: uuid.UUID) -> dict[str, list]:
    """Rows written on the survivor since the merge about the duplicate's own sales and cards go back
    with them: a reversal's points clawback and ledger credit, stamps added to its cards. Returns the
    moved ids by table (set-based: one UPDATE per table)."""
    sales = select(Sale.id).where(Sale.business_id == business_id, Sale.customer_id == source_id)
    cards = select(CustomerCard.id).where(
        CustomerCard.business_id == business_id, CustomerCard.customer_id == source_id
    )
    plan = (
        (
            PointsTransaction,
            PointsTransaction.sale_id.in_(sales),
            PointsTransaction.kind.in_(("earn", "clawback")),
        ),
        (LedgerEntry, LedgerEntry.sale_id.in_(sales), LedgerEntry.kind.in_(("sale", "reversal"))),
        (CardStamp, CardStamp.card_id.in_(cards), true()),
    )
    moved = {}
    for model, about, kind in plan:
        ids = db.session.scalars(
            update(model)
            .where(model.business_id == business_id, model.customer_id == target_id, about, kind)
            .values(customer_id=source_id)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        ).all()
        if ids:
            moved[model.__tablename__] = sorted(ids)
    return moved


def after_undo(survivor: Customer, source: Customer, moved: dict | None, actor) -> dict[str, list]:
    """The duplicate's rows went back (the undo moved the recorded ids): what was written since about
    its sales and cards follows them, then both balances and markers follow the rows. Refuses (Invalid,
    rolled back by the caller) when the survivor has spent points the duplicate brought."""
    followed = follow_back(survivor.business_id, source.id, survivor.id)
    kinds = {**moved, **followed} if moved is not None else None
    settle(survivor.business_id, [source, survivor], kinds, actor, UNDO_NOTE)
    return followed


def forget_money_text(customer: Customer) -> None:
    """An anonymized customer's money rows keep every amount, receipt number, kind, date and who
    recorded them, and a sale keeps its description (what was sold: the receipt's line, as a booking
    keeps its service); what goes is the free text staff typed about the person, as a booking's notes
    and a restriction's reason go: the reason of a reversal and of a points or account adjustment, a
    payment's description and its typed reference (a bank reference often carries the payer's name)."""
    b, me = customer.business_id, customer.id
    sales = select(Sale.id).where(Sale.business_id == b, Sale.customer_id == me)
    typed = ("payment", "adjust")
    blanks = (
        (SaleReversal, (SaleReversal.sale_id.in_(sales), SaleReversal.reason != ""), {"reason": ""}),
        (
            PointsTransaction,
            (
                PointsTransaction.customer_id == me,
                PointsTransaction.kind != "move",
                PointsTransaction.reason != "",
            ),
            {"reason": ""},
        ),
        (
            LedgerEntry,
            (LedgerEntry.customer_id == me, LedgerEntry.kind.in_(typed), LedgerEntry.description != ""),
            {"description": ""},
        ),
        (
            LedgerEntry,
            (LedgerEntry.customer_id == me, LedgerEntry.kind == "payment", LedgerEntry.reference_id != ""),
            {"reference_id": ""},
        ),
    )
    for model, where, values in blanks:
        db.session.execute(
            update(model)
            .where(model.business_id == b, *where)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, SaleReversal | PointsTransaction | LedgerEntry):
            db.session.expire(obj)
