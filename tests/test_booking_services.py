"""Booking rules: creating, completing, cancelling, no-shows, rescheduling and deleting, with counters."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from webapp.bookings import counters, services
from webapp.bookings.times import to_utc
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Customer, Location

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff(make_user):
    """A receptionist and a manager of the default business."""
    return {"receptionist": make_user("receptionist"), "manager": make_user("manager")}


@pytest.fixture
def book(business, location, staff):
    """Create a booking through the service (receptionist unless told), committed."""

    def make(customer, start=START, minutes=60, price=4500, actor=None, **kw):
        booking = services.create_booking(
            business,
            actor or staff["receptionist"],
            customer_id=customer.id,
            location_id=kw.pop("location_id", location.id),
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            service=kw.pop("service", "Cut"),
            staff_name=kw.pop("staff_name", "Amira"),
            price=price,
            **kw,
        )
        db.session.commit()
        return booking

    return make


def counters_of(customer) -> dict:
    """The customer's stored counters, read fresh."""
    db.session.expire_all()
    c = db.session.get(Customer, customer.id)
    return {name: getattr(c, name) for name in counters.COUNTERS}


def truth_of(customer) -> dict:
    """What the bookings say the counters should be."""
    row = db.session.execute(counters.aggregates_query(customer_ids=[customer.id])).first()
    if row is None:
        return dict(counters.ZERO)
    return {name: getattr(row, name) for name in counters.COUNTERS}


def audit_actions(customer) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.customer_id == customer.id).order_by(AuditEvent.id)
        )
    )


def test_create_counts_a_booking_and_keeps_the_version(book, make_customer):
    customer = make_customer()
    version = customer.version
    updated = customer.updated_at
    booking = book(customer)
    assert booking.status == "booked"
    after = counters_of(customer)
    assert after["total_bookings"] == 1
    assert after == truth_of(customer)
    fresh = db.session.get(Customer, customer.id)
    assert fresh.version == version  # an open edit form does not go stale
    assert fresh.updated_at == updated
    assert audit_actions(customer) == ["booking.created"]


def test_complete_cancel_no_show_move_the_right_counters(book, make_customer, staff):
    customer = make_customer()
    actor = staff["receptionist"]
    a, b, c, d = (book(customer, START + timedelta(days=i), price=1000 * (i + 1)) for i in range(4))
    services.complete_booking(a, actor)
    services.complete_booking(b, actor)
    services.cancel_booking(c, actor, "customer")
    services.mark_no_show(d, actor)
    db.session.commit()
    after = counters_of(customer)
    assert after == truth_of(customer)
    assert after["completed_bookings"] == 2
    assert db.session.get(Customer, customer.id).total_spent == 3000  # the two completions' sales
    assert after["first_visit_at"] == START
    assert after["last_visit_at"] == START + timedelta(days=1)
    assert after["cancellations_by_customer"] == 1
    assert after["no_shows"] == 1
    assert db.session.get(Customer, customer.id).average_spend == 1500
    assert audit_actions(customer)[-6:] == [
        "booking.completed",
        "sale.recorded",  # a completed booking with a price records its sale
        "booking.completed",
        "sale.recorded",
        "booking.cancelled",
        "booking.no_show",
    ]


def test_cancel_by_business_is_counted_apart(book, make_customer, staff):
    customer = make_customer()
    services.cancel_booking(book(customer), staff["manager"], "business")
    db.session.commit()
    assert counters_of(customer)["cancellations_by_business"] == 1
    assert counters_of(customer)["cancellations_by_customer"] == 0


def test_delete_takes_a_completed_booking_out_of_every_counter(book, make_customer, staff):
    customer = make_customer()  # free visits: a paid one has its sale and is never deleted
    early, late = book(customer, START, price=0), book(customer, START + timedelta(days=3), price=0)
    services.complete_booking(early, staff["receptionist"])
    services.complete_booking(late, staff["receptionist"])
    db.session.commit()
    services.delete_booking(late, staff["manager"])
    db.session.commit()
    after = counters_of(customer)
    assert after == truth_of(customer)
    assert after["last_visit_at"] == START
    assert after["total_bookings"] == 1
    assert "booking.deleted" in audit_actions(customer)


def test_a_paid_or_stamped_visit_is_never_deleted(book, make_customer, staff, business):
    """Its sale and its card stamp are history: deleting is refused with why, and nothing changes."""
    from webapp.loyalty.cards import enrol
    from webapp.loyalty.programs import create_program

    customer = make_customer()
    program = create_program(
        business, name="Cut card", stamps_required=5, reward="Free cut", stamp_on_complete=True, actor=None
    )
    enrol(customer, program, actor=None)
    paid, free = book(customer, START, price=3000), book(customer, START + timedelta(days=1), price=0)
    services.complete_booking(paid, staff["receptionist"])
    services.complete_booking(free, staff["receptionist"])
    db.session.commit()
    with pytest.raises(Invalid, match=r"paid for \(receipt REC-"):
        services.delete_booking(paid, staff["manager"])
    db.session.rollback()
    with pytest.raises(Invalid, match="stamp on a loyalty card"):
        services.delete_booking(free, staff["manager"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 2


def test_reschedule_moves_the_time_only(book, make_customer, staff):
    customer = make_customer()
    booking = book(customer)
    services.reschedule_booking(
        booking, staff["receptionist"], START + timedelta(days=2), START + timedelta(days=2, hours=1)
    )
    db.session.commit()
    assert db.session.get(Booking, booking.id).starts_at == START + timedelta(days=2)
    assert counters_of(customer) == truth_of(customer)


# --- bad input: a clear message, nothing written, counters unchanged ------------------------------


def nothing_written(customer, before):
    db.session.rollback()
    assert counters_of(customer) == before
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    assert audit_actions(customer) == []


def test_end_before_start_is_refused(book, make_customer):
    customer = make_customer()
    before = counters_of(customer)
    with pytest.raises(Invalid) as e:
        book(customer, minutes=-30)
    assert e.value.field == "ends_at"
    assert e.value.message == "The end must be after the start."
    nothing_written(customer, before)


def test_a_price_below_zero_is_refused(book, make_customer):
    customer = make_customer()
    before = counters_of(customer)
    with pytest.raises(Invalid) as e:
        book(customer, price=-1)
    assert (e.value.field, e.value.message) == ("price", "The price cannot be below zero.")
    nothing_written(customer, before)


def test_another_business_customer_or_location_is_refused(book, make_business, make_customer, business):
    other = make_business("Elsewhere")
    stranger = make_customer(business_=other)
    mine = make_customer()
    with pytest.raises(Invalid) as e:
        book(stranger)
    assert (e.value.field, e.value.message) == ("customer", "That customer is not in this business's book.")
    other_location = db.session.scalar(select(Location).where(Location.business_id == other.id))
    with pytest.raises(Invalid) as e:
        book(mine, location_id=other_location.id)
    assert e.value.field == "location"
    with pytest.raises(Invalid) as e:
        book(mine, location_id=999_999)
    assert e.value.field == "location"
    nothing_written(mine, counters_of(mine))
    assert counters_of(stranger)["total_bookings"] == 0


def test_an_unknown_customer_is_refused(book, make_customer):
    ghost = Customer(id=__import__("uuid").uuid4(), business_id=1)
    with pytest.raises(Invalid) as e:
        book(ghost)
    assert e.value.field == "customer"


def test_completing_a_cancelled_booking_is_refused(book, make_customer, staff):
    customer = make_customer()
    booking = book(customer)
    services.cancel_booking(booking, staff["receptionist"], "customer")
    db.session.commit()
    before, events = counters_of(customer), audit_actions(customer)
    with pytest.raises(Invalid) as e:
        services.complete_booking(db.session.get(Booking, booking.id), staff["receptionist"])
    assert e.value.message == "This booking was cancelled, so it cannot be completed."
    db.session.rollback()
    assert counters_of(customer) == before
    assert audit_actions(customer) == events
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_cancelling_twice_is_refused(book, make_customer, staff):
    customer = make_customer()
    booking = book(customer)
    services.cancel_booking(booking, staff["receptionist"], "customer")
    db.session.commit()
    before = counters_of(customer)
    with pytest.raises(Invalid) as e:
        services.cancel_booking(db.session.get(Booking, booking.id), staff["receptionist"], "business")
    assert e.value.message == "This booking is already cancelled."
    db.session.rollback()
    assert counters_of(customer) == before


def test_a_stale_copy_cannot_count_a_change_twice(book, make_customer, staff):
    """Two desks press Complete on the same booking: the second is refused, and it is counted once."""
    customer = make_customer()
    booking = book(customer)
    ours = db.session.get(Booking, booking.id)
    assert ours.status == "booked"  # read before the other desk's write
    other_desk = db.engine.connect()
    other_desk.execute(update(Booking).where(Booking.id == booking.id).values(status="no_show"))
    other_desk.commit()
    other_desk.close()
    with pytest.raises(Invalid) as e:
        services.complete_booking(ours, staff["receptionist"])
    assert "already no-show" in e.value.message
    db.session.rollback()
    assert counters_of(customer)["completed_bookings"] == 0


@pytest.mark.parametrize(
    "day, at, word",
    [(date(2026, 3, 29), time(1, 30), "does not exist"), (date(2026, 10, 25), time(1, 30), "happens twice")],
)
def test_local_times_the_clock_skips_or_repeats_are_refused(day, at, word):
    with pytest.raises(Invalid) as e:
        to_utc(day, at, "Europe/London", "start_time")
    assert e.value.field == "start_time"
    assert word in e.value.message


def test_local_time_is_stored_in_utc():
    assert to_utc(date(2026, 7, 1), time(9, 0), "Europe/London", "x") == datetime(
        2026, 7, 1, 8, 0, tzinfo=UTC
    )
    assert to_utc(date(2026, 1, 1), time(9, 0), "Europe/London", "x") == datetime(
        2026, 1, 1, 9, 0, tzinfo=UTC
    )


# --- blacklist and overlaps ---------------------------------------------------------------------


def blacklist(customer, level="block"):
    customer.blacklisted_at = datetime.now(UTC)
    customer.blacklist_reason = "Abusive to staff."
    customer.blacklist_level = level
    db.session.commit()


def test_a_blocked_customer_cannot_be_booked_by_a_receptionist(book, make_customer):
    customer = make_customer()
    blacklist(customer)
    with pytest.raises(Invalid) as e:
        book(customer, override_reason="They apologised")
    assert e.value.field == "customer"
    assert "blacklisted (Abusive to staff.)" in e.value.message
    nothing_written(customer, counters_of(customer))


def test_a_manager_overrides_the_blacklist_only_with_a_reason(book, make_customer, staff):
    customer = make_customer()
    blacklist(customer)
    with pytest.raises(Invalid) as e:
        book(customer, actor=staff["manager"], override_reason="  ")
    assert e.value.field == "override_reason"
    db.session.rollback()
    book(customer, actor=staff["manager"], override_reason="They apologised in person.")
    assert audit_actions(customer) == ["booking.created", "booking.blacklist_override"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.blacklist_override"))
    assert event.changes["reason"] == "They apologised in person."


def test_a_warn_level_customer_can_be_booked(book, make_customer):
    customer = make_customer()
    blacklist(customer, level="warn")
    assert book(customer).status == "booked"


def test_an_overlap_needs_confirming(book, make_customer):
    customer = make_customer()
    book(customer)
    with pytest.raises(Invalid) as e:
        book(customer, start=START + timedelta(minutes=30))
    assert e.value.field == "allow_overlap"
    assert "already has Cut at 1 Jun 10:00" in e.value.message  # 09:00 UTC is 10:00 in London
    db.session.rollback()
    book(customer, start=START + timedelta(minutes=30), allow_overlap=True)
    book(customer, start=START + timedelta(minutes=90))  # back to back is not an overlap
    assert counters_of(customer)["total_bookings"] == 3
