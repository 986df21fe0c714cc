"""Loyalty points (webapp/money/points.py): the earning rate, redemptions, adjustments, history."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Business, Customer, PointsTransaction
from webapp.money import points as points_service
from webapp.money.points import adjust_points, points_for, points_history, redeem_points
from webapp.money.sales import record_sale, reverse_sale


@pytest.fixture
def staff(make_user):
    """A receptionist and a manager of the default business."""
    return {"receptionist": make_user("receptionist"), "manager": make_user("manager")}


def fresh(customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def rows() -> list[tuple[str, int, int]]:
    return [
        (t.kind, t.points, t.balance_after)
        for t in db.session.scalars(select(PointsTransaction).order_by(PointsTransaction.id))
    ]


@pytest.fixture
def holder(make_customer, staff):
    """Ana, who earned 200 points on a £200 sale."""
    customer = make_customer(first_name="Ana")
    record_sale(customer, total=20000, actor=staff["receptionist"])
    db.session.commit()
    return customer


def test_points_for_counts_whole_currency_units_rounded_down():
    pounds = Business(name="x", currency="GBP", points_per_unit=1)
    assert [points_for(pounds, t) for t in (1, 99, 100, 1299, 1300)] == [0, 0, 1, 12, 13]
    pounds.points_per_unit = 5
    assert points_for(pounds, 1299) == 60
    yen = Business(name="y", currency="JPY", points_per_unit=1)
    assert points_for(yen, 1500) == 1500
    pounds.points_per_unit = 0
    assert points_for(pounds, 100_000) == 0


def test_a_redemption_gives_a_discount_at_the_point_value(business, holder, staff):
    result = redeem_points(holder, points=150, actor=staff["receptionist"])
    db.session.commit()
    assert (result.redeemed, result.discount_amount, result.remaining_points) == (150, 1500, 50)
    assert fresh(holder).points_balance == 50
    assert rows() == [("earn", 200, 200), ("redeem", -150, 50)]
    row = db.session.scalars(select(PointsTransaction).where(PointsTransaction.kind == "redeem")).one()
    assert row.discount_amount == 1500 and row.created_by_id == staff["receptionist"].id
    business.point_value_minor = 25
    db.session.commit()
    assert redeem_points(holder, points=50, actor=staff["receptionist"]).discount_amount == 1250
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "points.redeemed")).first()
    assert event.changes["points"] == 150 and event.changes["discount_amount"] == 1500


@pytest.mark.parametrize(
    ("points", "words"),
    [(201, "Ana has only 200 points."), (0, "at least 1"), (-1, "at least 1"), (10**12, "more points"),
     ("5", "whole number"), (2.5, "whole number"), (True, "whole number")],
)  # fmt: skip
def test_bad_redemptions_write_nothing(holder, staff, points, words):
    with pytest.raises(Invalid) as caught:
        redeem_points(holder, points=points, actor=staff["receptionist"])
    assert caught.value.field == "points" and words in caught.value.message
    db.session.rollback()
    assert fresh(holder).points_balance == 200 and len(rows()) == 1


def test_no_points_left_says_so(make_customer, staff):
    with pytest.raises(Invalid, match="has no points"):
        redeem_points(make_customer(first_name="Bo"), points=1, actor=staff["receptionist"])


def test_no_redemption_for_an_anonymized_customer(holder, staff):
    db.session.execute(
        db.update(Customer).where(Customer.id == holder.id).values(anonymized_at=datetime.now(UTC))
    )
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        redeem_points(holder, points=10, actor=staff["receptionist"])
    assert caught.value.field == "points" and "anonymized" in caught.value.message


def test_a_redemption_for_a_sale_of_the_same_customer(holder, make_customer, staff):
    own = record_sale(holder, total=1000, actor=staff["receptionist"])
    other = record_sale(make_customer(), total=1000, actor=staff["receptionist"])
    db.session.commit()
    result = redeem_points(holder, points=10, actor=staff["receptionist"], sale=own)
    assert result.transaction.sale_id == own.id
    with pytest.raises(Invalid) as caught:
        redeem_points(holder, points=10, actor=staff["receptionist"], sale=other)
    assert caught.value.field == "sale_id"
    db.session.rollback()
    reverse_sale(own, kind="void", reason="Mistake", actor=staff["manager"])
    db.session.commit()
    with pytest.raises(Invalid, match="voided or refunded"):
        redeem_points(holder, points=10, actor=staff["receptionist"], sale=own)


def test_a_manager_adjusts_up_and_down_with_a_reason(holder, staff):
    adjust_points(holder, points=50, reason="Birthday bonus", actor=staff["manager"])
    adjust_points(holder, points=-250, reason="Points moved to her sister", actor=staff["manager"])
    db.session.commit()
    assert rows()[1:] == [("adjust", 50, 250), ("adjust", -250, 0)]
    assert fresh(holder).points_balance == 0
    reasons = [t.reason for t in db.session.scalars(select(PointsTransaction).order_by(PointsTransaction.id))]
    assert reasons[1:] == ["Birthday bonus", "Points moved to her sister"]


@pytest.mark.parametrize(
    ("points", "reason", "field", "words"),
    [(0, "x", "points", "0 changes nothing"), (-201, "x", "points", "below zero"),
     (10, " ", "reason", "Say why"), ("ten", "x", "points", "whole number")],
)  # fmt: skip
def test_bad_adjustments_write_nothing(holder, staff, points, reason, field, words):
    with pytest.raises(Invalid) as caught:
        adjust_points(holder, points=points, reason=reason, actor=staff["manager"])
    assert caught.value.field == field and words in caught.value.message
    db.session.rollback()
    assert fresh(holder).points_balance == 200 and len(rows()) == 1


def test_only_a_manager_adjusts(holder, staff):
    with pytest.raises(Invalid, match="Only a manager"):
        adjust_points(holder, points=5, reason="x", actor=staff["receptionist"])


def test_the_balance_is_always_the_sum_of_its_rows(holder, staff):
    redeem_points(holder, points=30, actor=staff["receptionist"])
    adjust_points(holder, points=7, reason="x", actor=staff["manager"])
    db.session.commit()
    total = db.session.scalar(
        select(func.sum(PointsTransaction.points)).where(PointsTransaction.customer_id == holder.id)
    )
    assert fresh(holder).points_balance == total == 177
    assert [t.balance_after for t in points_history(holder)] == [177, 170, 200]
    assert len(points_history(holder, limit=1)) == 1


def test_the_message_uses_singular_for_one_point(make_customer, staff):
    customer = make_customer(first_name="Cy")
    adjust_points(customer, points=1, reason="x", actor=staff["manager"])
    db.session.commit()
    with pytest.raises(Invalid, match=r"Cy has only 1 point\."):
        redeem_points(customer, points=2, actor=staff["receptionist"])
    assert points_service.MAX_POINTS > 0


# --- the loyalty rate (webapp/money/loyalty_settings.py) -----------------------------------------


def test_the_owner_changes_the_rate_and_sales_keep_what_they_earned(
    business, make_customer, make_user, staff
):
    from webapp.money.loyalty_settings import update_loyalty

    owner = make_user("owner")
    customer = make_customer()
    before = record_sale(customer, total=1000, actor=staff["receptionist"])
    update_loyalty(business, points_per_unit=3, point_value_minor=5, actor=owner)
    db.session.commit()
    after = record_sale(customer, total=1000, actor=staff["receptionist"])
    db.session.commit()
    assert (before.points_earned, after.points_earned) == (10, 30)
    assert redeem_points(customer, points=40, actor=staff["receptionist"]).discount_amount == 200
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "business.loyalty_updated")
    ).one()
    assert event.changes == {"points_per_unit": [1, 3], "point_value_minor": [10, 5]}


@pytest.mark.parametrize(
    ("rate", "value", "field"),
    [(-1, 10, "points_per_unit"), (1001, 10, "points_per_unit"), ("2", 10, "points_per_unit"),
     (1, -1, "point_value"), (1, 100_001, "point_value"), (1, 2.5, "point_value")],
)  # fmt: skip
def test_a_rate_out_of_bounds_is_refused(business, make_user, rate, value, field):
    from webapp.money.loyalty_settings import update_loyalty

    with pytest.raises(Invalid) as caught:
        update_loyalty(business, points_per_unit=rate, point_value_minor=value, actor=make_user("owner"))
    assert caught.value.field == field
    db.session.rollback()
    b = db.session.get(Business, business.id)
    assert (b.points_per_unit, b.point_value_minor) == (1, 10)


def test_the_typed_rate_and_value_are_read_together():
    from webapp.money.loyalty_settings import parse_loyalty

    assert parse_loyalty(" 2 ", "0.10", "GBP") == {"points_per_unit": 2, "point_value_minor": 10}
    assert parse_loyalty("0", "0", "GBP") == {"points_per_unit": 0, "point_value_minor": 0}
    with pytest.raises(Invalid) as caught:
        parse_loyalty("two", "0.001", "GBP")
    assert set(caught.value.problems) == {"points_per_unit", "point_value"}
