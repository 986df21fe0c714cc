"""Property: after any sequence of booking changes, every customer's counters equal the aggregates."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from helpers import run_state_machine
from webapp.bookings import counters, services
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Booking, Customer, PointsTransaction, ReceiptSequence, Sale

BASE = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
slots = st.integers(min_value=0, max_value=400)  # hours from BASE: overlaps and ties happen often
prices = st.integers(min_value=0, max_value=20_000)


def check_counters(customer_ids) -> None:
    """Every customer's stored counters equal what its bookings say."""
    db.session.expire_all()
    truth = {row.customer_id: row for row in db.session.execute(counters.aggregates_query())}
    for cid in customer_ids:
        stored = db.session.get(Customer, cid)
        row = truth.get(cid)
        for name in counters.COUNTERS:
            want = getattr(row, name) if row is not None else counters.ZERO[name]
            assert getattr(stored, name) == want, (name, getattr(stored, name), want)


@pytest.fixture
def machine_setup(business, location, make_user, make_customer):
    """What the state machine works with: two customers, a receptionist and the location."""
    return {
        "business": business,
        "location": location,
        "actor": make_user("receptionist"),
        "customers": [make_customer().id, make_customer().id],
    }


def test_counters_always_equal_the_aggregates(machine_setup, app):
    setup = machine_setup

    class Bookings(RuleBasedStateMachine):
        """Random create / complete / cancel / no-show / reschedule / delete sequences."""

        @initialize()
        def start(self):
            db.session.rollback()
            for model in (PointsTransaction, Sale, ReceiptSequence, Booking):  # completed ones have sales
                db.session.execute(db.delete(model))
            db.session.execute(
                db.update(Customer)
                .values(**counters.ZERO, total_spent=0, total_orders=0, points_balance=0)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            self.ids: list = []

        def pick(self, index: int) -> Booking:
            return db.session.get(Booking, self.ids[index % len(self.ids)])

        @rule(who=st.integers(0, 1), slot=slots, hours=st.integers(-1, 3), price=prices)
        def create(self, who, slot, hours, price):
            start = BASE + timedelta(hours=slot)
            try:
                booking = services.create_booking(
                    setup["business"],
                    setup["actor"],
                    customer_id=setup["customers"][who],
                    location_id=setup["location"].id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=hours),
                    service="Cut",
                    price=price,
                    allow_overlap=True,
                )
            except Invalid:
                db.session.rollback()
                assert hours <= 0
            else:
                db.session.commit()
                self.ids.append(booking.id)

        @precondition(lambda self: self.ids)
        @rule(
            index=st.integers(0, 50), action=st.sampled_from(["complete", "customer", "business", "no_show"])
        )
        def change(self, index, action):
            booking = self.pick(index)
            was = booking.status
            try:
                if action == "complete":
                    services.complete_booking(booking, setup["actor"])
                elif action == "no_show":
                    services.mark_no_show(booking, setup["actor"])
                else:
                    services.cancel_booking(booking, setup["actor"], action)
            except Invalid:
                db.session.rollback()
                assert was != "booked"
            else:
                db.session.commit()
                assert was == "booked"

        @precondition(lambda self: self.ids)
        @rule(index=st.integers(0, 50), slot=slots)
        def reschedule(self, index, slot):
            booking = self.pick(index)
            start = BASE + timedelta(hours=slot)
            try:
                services.reschedule_booking(booking, setup["actor"], start, start + timedelta(hours=1))
            except Invalid:
                db.session.rollback()
                assert booking.status != "booked"
            else:
                db.session.commit()

        @precondition(lambda self: self.ids)
        @rule(index=st.integers(0, 50))
        def remove(self, index):
            booking = self.pick(index)
            paid = booking.status == "completed" and booking.price > 0  # it has its sale: kept
            try:
                services.delete_booking(booking, setup["actor"])
            except Invalid as e:
                db.session.rollback()
                assert paid and "paid for" in e.message
            else:
                db.session.commit()
                assert not paid
                self.ids.remove(booking.id)

        @invariant()
        def counters_equal_aggregates(self):
            check_counters(setup["customers"])

        @invariant()
        def spend_is_the_sales_of_completed_bookings(self):
            """Spend is counted once, by sales: each completed booking with a price recorded one."""
            for cid in setup["customers"]:
                stored = db.session.get(Customer, cid)
                sold = db.session.scalar(db.select(db.func.sum(Sale.total)).where(Sale.customer_id == cid))
                paid = db.session.scalar(
                    db.select(db.func.sum(Booking.price)).where(
                        Booking.customer_id == cid, Booking.status == "completed"
                    )
                )
                assert stored.total_spent == (sold or 0) == (paid or 0)

        @invariant()
        def recount_finds_nothing_wrong(self):
            assert counters.recount() == 0
            db.session.rollback()

    run_state_machine(Bookings, 200 if app.backend == "sqlite" else 60, steps=10)
