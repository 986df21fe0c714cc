"""Sales (webapp/money/sales.py): receipts, totals, points earned, on account, bookings, reversals."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.bookings import services as booking_services
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Booking,
    Business,
    Customer,
    LedgerEntry,
    PointsTransaction,
    ReceiptSequence,
    Sale,
    SaleReversal,
)
from webapp.money import receipts, sales
from webapp.money.points import redeem_points


@pytest.fixture
def staff(make_user):
    """A receptionist and a manager of the default business."""
    return {"receptionist": make_user("receptionist"), "manager": make_user("manager")}


def fresh(customer) -> Customer:
    """The customer's committed row."""
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def actions(customer) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.customer_id == customer.id).order_by(AuditEvent.id)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def sell(customer, actor, total=2500, **kw) -> Sale:
    sale = sales.record_sale(customer, total=total, actor=actor, **kw)
    db.session.commit()
    return sale


# --- receipt numbers -----------------------------------------------------------------------------


def test_receipt_numbers_count_up_per_business_day(business, make_business):
    today = receipts.local_day(business)
    first, second = receipts.next_receipt_number(business), receipts.next_receipt_number(business)
    assert first == f"REC-{today:%Y%m%d}-001" and second == f"REC-{today:%Y%m%d}-002"
    other = make_business("Elsewhere")
    assert receipts.next_receipt_number(other) == f"REC-{today:%Y%m%d}-001"
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert receipts.next_receipt_number(business, tomorrow).endswith("-001")
    assert db.session.scalar(select(func.count()).select_from(ReceiptSequence)) == 3


def test_receipt_date_is_the_business_local_date(make_business):
    """At 23:30 UTC it is already tomorrow in Auckland and still today in Los Angeles."""
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    auckland = make_business("Kiwi", timezone="Pacific/Auckland")
    angeles = make_business("Angels", timezone="America/Los_Angeles")
    assert receipts.next_receipt_number(auckland, late) == "REC-20260702-001"
    assert receipts.next_receipt_number(angeles, late) == "REC-20260701-001"


def test_more_than_999_receipts_a_day_keep_counting(business):
    day = receipts.local_day(business)
    db.session.add(ReceiptSequence(business_id=business.id, day=day, last=999))
    db.session.flush()
    assert receipts.next_receipt_number(business) == f"REC-{day:%Y%m%d}-1000"


# --- recording -----------------------------------------------------------------------------------


def test_a_sale_counts_spend_orders_and_earns_points(business, make_customer, staff):
    customer = make_customer(first_name="Ana")
    sale = sell(customer, staff["receptionist"], total=2599, description="Cut and colour")
    assert sale.receipt_number.startswith("REC-") and sale.receipt_number.endswith("-001")
    assert sale.points_earned == 25  # whole pounds only: £25.99 earns 25 at 1 point a pound
    after = fresh(customer)
    assert (after.total_spent, after.total_orders, after.points_balance, after.ledger_balance) == (
        2599,
        1,
        25,
        0,
    )
    earn = db.session.scalars(select(PointsTransaction)).one()
    assert (earn.kind, earn.points, earn.balance_after, earn.sale_id) == ("earn", 25, 25, sale.id)
    assert count(LedgerEntry) == 0  # paid now
    assert sale.created_by_id == staff["receptionist"].id
    assert actions(customer) == ["sale.recorded"]
    assert after.version == customer.version  # an open edit form does not go stale


def test_points_follow_the_business_rate(business, make_customer, staff):
    business.points_per_unit = 3
    db.session.commit()
    customer = make_customer()
    assert sell(customer, staff["receptionist"], total=1050).points_earned == 30
    assert sell(customer, staff["receptionist"], total=99).points_earned == 0  # under a pound earns none
    assert count(PointsTransaction) == 1  # no empty earn row
    assert fresh(customer).points_balance == 30


def test_an_on_account_sale_debits_the_ledger(make_customer, staff):
    customer = make_customer()
    first = sell(customer, staff["receptionist"], total=5000, on_account=True)
    sell(customer, staff["receptionist"], total=1500, on_account=True)
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert [(e.type, e.kind, e.amount, e.balance_after) for e in entries] == [
        ("debit", "sale", 5000, -5000),
        ("debit", "sale", 1500, -6500),
    ]
    assert entries[0].reference_id == str(first.id) and entries[0].sale_id == first.id
    assert fresh(customer).ledger_balance == -6500


def test_a_typed_receipt_number_is_trimmed_and_unique_in_the_business(make_business, make_customer, staff):
    customer = make_customer()
    sale = sell(customer, staff["receptionist"], receipt_number="  till-7/0042 ")
    assert sale.receipt_number == "till-7/0042"
    with pytest.raises(Invalid) as caught:
        sales.record_sale(customer, total=100, actor=staff["receptionist"], receipt_number="till-7/0042")
    assert caught.value.field == "receipt_number" and "already used" in caught.value.message
    db.session.rollback()
    assert count(Sale) == 1 and fresh(customer).total_orders == 1
    other = make_business("Elsewhere")
    stranger = make_customer(business_=other)
    assert sell(stranger, None, receipt_number="till-7/0042").receipt_number == "till-7/0042"


def test_a_receipt_number_longer_than_40_characters_is_refused(make_customer, staff):
    with pytest.raises(Invalid) as caught:
        sales.record_sale(make_customer(), total=100, actor=staff["receptionist"], receipt_number="R" * 41)
    assert caught.value.field == "receipt_number"


def test_a_generated_number_skips_one_typed_by_hand(business, make_customer, staff):
    customer = make_customer()
    day = receipts.local_day(business)
    sell(customer, staff["receptionist"], receipt_number=f"REC-{day:%Y%m%d}-001")
    assert sell(customer, staff["receptionist"]).receipt_number == f"REC-{day:%Y%m%d}-002"


def test_the_unique_index_catches_a_number_taken_meanwhile(business, make_customer, staff, monkeypatch):
    """A race the pre-check cannot see (the other sale committed after it): still a field message."""
    customer = make_customer()
    sell(customer, staff["receptionist"], receipt_number="R-1")
    monkeypatch.setattr(sales, "receipt_taken", lambda business_id, number: False)
    with pytest.raises(Invalid) as caught:
        sales.record_sale(customer, total=100, actor=staff["receptionist"], receipt_number="R-1")
    assert caught.value.field == "receipt_number"
    db.session.rollback()
    assert count(Sale) == 1 and fresh(customer).total_spent == 2500


@pytest.mark.parametrize(
    ("total", "words"),
    [
        (-500, "more than zero"),
        (0, "more than zero"),
        (10**11, "too large"),
        (12.5, "amount"),
        ("12", "amount"),
    ],
)
def test_bad_totals_write_nothing(make_customer, staff, total, words):
    customer = make_customer()
    with pytest.raises(Invalid) as caught:
        sales.record_sale(customer, total=total, actor=staff["receptionist"])
    assert caught.value.field == "total" and words in caught.value.message
    db.session.rollback()
    assert count(Sale) == 0 and fresh(customer).total_spent == 0


def test_no_sale_for_an_anonymized_or_merged_customer(make_customer, staff):
    gone = make_customer(anonymized_at=datetime.now(UTC), first_name="", last_name="", email=None)
    survivor = make_customer()
    merged = make_customer(merged_into_id=survivor.id)
    for customer, words in ((gone, "anonymized"), (merged, "merged")):
        with pytest.raises(Invalid) as caught:
            sales.record_sale(customer, total=100, actor=staff["receptionist"])
        assert caught.value.field == "total" and words in caught.value.message
        db.session.rollback()
    assert count(Sale) == 0


def test_an_api_key_records_a_sale_named_by_its_label(make_customer, business):
    from webapp.models import ApiKey

    key = ApiKey(business_id=business.id, name="Till", prefix="abcd1234", digest="x" * 64, access="desk")
    db.session.add(key)
    db.session.commit()
    customer = make_customer()
    sale = sell(customer, key)
    assert sale.created_by_id is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sale.recorded")).one()
    assert event.actor_id is None and event.actor_label == key.label


def test_the_sum_stays_within_what_the_columns_hold(make_customer, staff):
    customer = make_customer(total_spent=2**31 - 100)
    with pytest.raises(Invalid) as caught:
        sales.record_sale(customer, total=1000, actor=staff["receptionist"])
    assert caught.value.field == "total"


# --- bookings ------------------------------------------------------------------------------------


def test_a_booking_has_at_most_one_sale(make_customer, make_booking, staff):
    customer = make_customer()
    booking = make_booking(customer, days=-1, status="completed")
    sell(customer, staff["receptionist"], booking=booking)
    with pytest.raises(Invalid) as caught:
        sales.record_sale(customer, total=100, actor=staff["receptionist"], booking=booking)
    assert caught.value.field == "booking_id"
    db.session.rollback()
    assert count(Sale) == 1


def test_the_partial_unique_index_catches_a_second_sale_for_a_booking(
    make_customer, make_booking, staff, monkeypatch
):
    customer = make_customer()
    booking = make_booking(customer, days=-1, status="completed")
    sell(customer, staff["receptionist"], booking=booking)
    monkeypatch.setattr(sales, "booking_has_sale", lambda booking: False)
    with pytest.raises(Invalid) as caught:
        sales.record_sale(customer, total=100, actor=staff["receptionist"], booking=booking)
    assert caught.value.field == "booking_id"


def test_a_booking_of_someone_else_or_cancelled_is_refused(make_customer, make_booking, staff):
    customer, other = make_customer(), make_customer()
    for booking in (make_booking(other), make_booking(customer, status="cancelled", cancelled_by="customer")):
        with pytest.raises(Invalid) as caught:
            sales.record_sale(customer, total=100, actor=staff["receptionist"], booking=booking)
        assert caught.value.field == "booking_id"
        db.session.rollback()


def test_completing_a_booking_with_a_price_records_its_sale(make_customer, make_booking, staff):
    customer = make_customer()
    booking = make_booking(customer, days=-1, price=4500, service="Colour")
    booking_services.complete_booking(booking, staff["receptionist"])
    db.session.commit()
    sale = db.session.scalars(select(Sale)).one()
    assert (sale.booking_id, sale.total, sale.description, sale.on_account) == (
        booking.id,
        4500,
        "Colour",
        False,
    )
    assert sale.receipt_number.startswith("REC-")
    after = fresh(customer)
    assert (after.total_spent, after.total_orders, after.points_balance, after.completed_bookings) == (
        4500,
        1,
        45,
        1,
    )


def test_completing_a_free_or_prepaid_booking_records_no_sale(make_customer, make_booking, staff):
    customer = make_customer()
    free = make_booking(customer, days=-1, price=0)
    prepaid = make_booking(customer, days=-2, price=4500)
    sell(customer, staff["receptionist"], total=4000, booking=prepaid)
    booking_services.complete_booking(free, staff["receptionist"])
    booking_services.complete_booking(prepaid, staff["receptionist"])
    db.session.commit()
    assert count(Sale) == 1 and fresh(customer).total_spent == 4000


def test_a_booking_with_a_sale_cannot_be_deleted(make_customer, make_booking, staff):
    customer = make_customer()
    booking = make_booking(customer, days=-1, price=4500)
    booking_services.complete_booking(booking, staff["receptionist"])
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        booking_services.delete_booking(booking, staff["manager"])
    assert "sale" in caught.value.message
    db.session.rollback()
    assert db.session.get(Booking, booking.id) is not None


# --- reversals -----------------------------------------------------------------------------------


def test_a_refund_reverses_spend_points_and_account(make_customer, staff):
    customer = make_customer()
    sale = sell(customer, staff["receptionist"], total=5000, on_account=True)
    reversal = sales.reverse_sale(sale, kind="refund", reason="Colour went wrong", actor=staff["manager"])
    db.session.commit()
    assert (reversal.kind, reversal.amount, reversal.reason) == ("refund", 5000, "Colour went wrong")
    after = fresh(customer)
    assert (after.total_spent, after.total_orders, after.points_balance, after.ledger_balance) == (0, 0, 0, 0)
    clawback = db.session.scalars(select(PointsTransaction).where(PointsTransaction.kind == "clawback")).one()
    assert (clawback.points, clawback.balance_after, clawback.sale_id) == (-50, 0, sale.id)
    back = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reversal")).one()
    assert (back.type, back.amount, back.balance_after, back.reference_id) == (
        "credit",
        5000,
        0,
        str(sale.id),
    )
    assert count(Sale) == 1  # reversing rows, never a delete
    assert actions(customer)[-1] == "sale.refunded"


def test_a_void_of_a_paid_sale_leaves_the_ledger_alone(make_customer, staff):
    customer = make_customer()
    sale = sell(customer, staff["receptionist"], total=2000)
    sales.reverse_sale(sale, kind="void", reason="Wrong customer", actor=staff["manager"])
    db.session.commit()
    assert count(LedgerEntry) == 0
    assert fresh(customer).total_spent == 0
    assert actions(customer)[-1] == "sale.voided"


def test_a_sale_is_reversed_once(make_customer, staff):
    customer = make_customer()
    sale = sell(customer, staff["receptionist"])
    sales.reverse_sale(sale, kind="void", reason="Mistake", actor=staff["manager"])
    db.session.commit()
    with pytest.raises(Invalid, match="already voided"):
        sales.reverse_sale(sale, kind="refund", reason="Again", actor=staff["manager"])
    db.session.rollback()
    assert count(SaleReversal) == 1 and fresh(customer).total_orders == 0


def test_spent_points_are_clawed_back_only_down_to_zero(make_customer, staff):
    """She earned 50 and spent 40: the refund takes the 10 left and says 40 could not be taken."""
    customer = make_customer()
    sale = sell(customer, staff["receptionist"], total=5000)
    redeem_points(customer, points=40, actor=staff["receptionist"])
    db.session.commit()
    sales.reverse_sale(sale, kind="refund", reason="Unhappy", actor=staff["manager"])
    db.session.commit()
    assert fresh(customer).points_balance == 0
    clawback = db.session.scalars(select(PointsTransaction).where(PointsTransaction.kind == "clawback")).one()
    assert clawback.points == -10 and clawback.balance_after == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sale.refunded")).one()
    assert event.changes["points_clawed_back"] == 10 and event.changes["points_not_clawed_back"] == 40


def test_reversing_needs_a_reason_a_kind_and_a_manager(make_customer, staff):
    customer = make_customer()
    sale = sell(customer, staff["receptionist"])
    for kwargs, field in (
        ({"kind": "void", "reason": "  ", "actor": staff["manager"]}, "reason"),
        ({"kind": "cancel", "reason": "x", "actor": staff["manager"]}, "kind"),
        ({"kind": "void", "reason": "x", "actor": staff["receptionist"]}, None),
    ):
        with pytest.raises(Invalid) as caught:
            sales.reverse_sale(sale, **kwargs)
        assert caught.value.field == field
        db.session.rollback()
    assert count(SaleReversal) == 0 and fresh(customer).total_spent == 2500


# --- reading -------------------------------------------------------------------------------------


def test_sales_of_lists_newest_first_with_reversals_in_one_query(make_customer, staff, count_queries):
    customer = make_customer()
    first = sell(customer, staff["receptionist"], total=100)
    sell(customer, staff["receptionist"], total=200)
    sales.reverse_sale(first, kind="void", reason="x", actor=staff["manager"])
    db.session.commit()
    customer = fresh(customer)
    assert customer.business_id  # loaded now: the count below is the list's own
    with count_queries() as q:
        found = sales.sales_of(customer)
        shown = [(s.total, s.reversal.kind if s.reversal else None) for s in found]
    assert shown == [(200, None), (100, "void")]
    assert q.count == 1
    assert [s.total for s in sales.sales_of(customer, limit=1, offset=1)] == [100]


def test_sale_for_finds_only_the_business_sales(make_business, make_customer, staff):
    sale = sell(make_customer(), staff["receptionist"])
    business_id = sale.business_id
    assert sales.sale_for(business_id, sale.id).id == sale.id
    assert sales.sale_for(business_id, str(sale.id)).id == sale.id
    assert sales.sale_for(make_business("Elsewhere").id, sale.id) is None
    assert sales.sale_for(business_id, "not-a-uuid") is None
    assert db.session.get(Business, business_id) is not None
