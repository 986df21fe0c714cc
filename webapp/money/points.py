"""Loyalty points: earned on sales at the business's rate, redeemed for a discount, adjusted by a manager.

Every movement is an appended `PointsTransaction` with the balance after it; the customer's
`points_balance` is their sum, moved in the same transaction under the customer's row lock, so of two
tills redeeming at once the second reads the first's result and the balance never goes below zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business, Customer, PointsTransaction, Sale, SaleReversal
from webapp.money.amounts import places_of
from webapp.money.common import (
    audit,
    check_fits,
    clean_reason,
    locked_customer,
    move_balances,
    require_manager,
    staff_id,
)

MAX_POINTS = 100_000_000  # in one redemption or adjustment: far beyond any balance, within the columns


@dataclass(frozen=True)
class Redemption:
    """What a redemption gave: the points taken, their discount in minor units, the points left."""

    redeemed: int
    discount_amount: int
    remaining_points: int
    transaction: PointsTransaction | None = None


def points_for(business: Business, total: int) -> int:
    """Points a sale of `total` minor units earns: `points_per_unit` for each WHOLE currency unit,
    rounded down (floor(total / 100) × rate for pounds: £12.99 earns 12 at the default rate, 99p
    earns none). A currency without minor units (JPY) counts each yen as a whole unit."""
    if total <= 0:
        return 0
    return total // 10 ** places_of(business.currency) * max(business.points_per_unit, 0)


def check_points(points, *, signed: bool = False) -> int:
    """A whole number of points: at least 1 (or, `signed`, not zero), within MAX_POINTS."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise Invalid("points", "Type a whole number of points, like 200.")
    if signed and points == 0:
        raise Invalid(
            "points", "Type the points to add (like 50) or take away (like -50); 0 changes nothing."
        )
    if not signed and points < 1:
        raise Invalid("points", "Redeem at least 1 point.")
    if abs(points) > MAX_POINTS:
        raise Invalid("points", "That is more points than anyone holds; check the number.")
    return points


def held(customer: Customer, balance: int) -> str:
    """ "Ana has only 120 points." as the redeem form says it."""
    who = customer.first_name or customer.display_name
    if balance == 0:
        return f"{who} has no points to redeem."
    return f"{who} has only {balance} point{'s' if balance != 1 else ''}."


def redeem_points(customer: Customer, *, points: int, actor, sale: Sale | None = None) -> Redemption:
    """Spend `points` of the customer's balance for a discount of points × the point's value. Caller
    commits. Optionally for one of the customer's sales (not a reversed one)."""
    points = check_points(points)
    locked = locked_customer(customer, "points")
    if sale is not None:
        if sale.business_id != locked.business_id or sale.customer_id != locked.id:
            raise Invalid("sale_id", "That sale is not this customer's.")
        if sale_reversed(sale):
            raise Invalid("sale_id", "That sale was voided or refunded; redeem without it.")
    balance = locked.points_balance
    if points > balance:
        raise Invalid("points", held(locked, balance))
    business = db.session.get(Business, locked.business_id)
    discount = points * business.point_value_minor
    check_fits(discount, "points", "the discount")
    row = PointsTransaction(
        business_id=locked.business_id,
        customer_id=locked.id,
        kind="redeem",
        points=-points,
        balance_after=balance - points,
        discount_amount=discount,
        sale_id=sale.id if sale is not None else None,
        created_by_id=staff_id(actor),
    )
    db.session.add(row)
    move_balances(locked, points_balance=-points)
    audit(
        actor,
        "points.redeemed",
        locked,
        points=points,
        discount_amount=discount,
        balance_after=balance - points,
        **({"sale_id": str(sale.id)} if sale is not None else {}),
    )
    db.session.flush()
    return Redemption(points, discount, balance - points, row)


def sale_reversed(sale: Sale) -> bool:
    """True when the sale has a reversal (read from the database, not the loaded relationship)."""
    return db.session.scalar(select(SaleReversal.id).where(SaleReversal.sale_id == sale.id)) is not None


def adjust_points(customer: Customer, *, points: int, reason: str, actor) -> PointsTransaction:
    """A manager's correction of the balance: signed, not zero, with a reason; the result is never
    below zero. Caller commits. Allowed on an anonymized customer (the amounts stay theirs)."""
    require_manager(actor, "adjust points")
    points = check_points(points, signed=True)
    reason = clean_reason(reason)
    locked = locked_customer(customer, "points", anonymized_ok=True)
    balance = locked.points_balance
    if balance + points < 0:
        raise Invalid("points", f"That would take the balance below zero: {held(locked, balance)}")
    check_fits(balance + points, "points", "the points balance")
    row = PointsTransaction(
        business_id=locked.business_id,
        customer_id=locked.id,
        kind="adjust",
        points=points,
        balance_after=balance + points,
        reason=reason,
        created_by_id=staff_id(actor),
    )
    db.session.add(row)
    move_balances(locked, points_balance=points)
    audit(actor, "points.adjusted", locked, points=points, balance_after=balance + points, reason=reason)
    db.session.flush()
    return row


def points_history(customer: Customer, *, limit: int = 20) -> list[PointsTransaction]:
    """The customer's latest points movements, newest first."""
    return list(
        db.session.scalars(
            select(PointsTransaction)
            .where(
                PointsTransaction.business_id == customer.business_id,
                PointsTransaction.customer_id == customer.id,
            )
            .order_by(PointsTransaction.id.desc())
            .limit(limit)
        )
    )


def parse_points(text: str | None, *, signed: bool = False) -> int:
    """Points as typed ("200", "-50" when `signed`), checked as `redeem_points`/`adjust_points` do."""
    text = (text or "").strip()
    if not text:
        raise Invalid("points", "Enter a number of points.")
    if not re.fullmatch(r"[+-]?\d{1,12}", text):
        raise Invalid("points", "Type a whole number of points, like 200.")
    return check_points(int(text), signed=signed)
