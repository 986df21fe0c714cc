"""Bookings listen to merge's signals: whoever's bookings moved gets counters that match them again."""

import pytest
from sqlalchemy import update

from webapp import signals
from webapp.extensions import db
from webapp.merge import services, undo
from webapp.models import Booking, Customer


@pytest.fixture
def manager(make_user):
    return make_user("manager")


def test_customers_merged_zeroes_the_pointer_and_recounts_the_survivor(make_customer, make_booking):
    source, target = make_customer(), make_customer()
    make_booking(source, status="completed", days=-1)
    source.merged_into_id = target.id  # as the merge leaves it, its booking already on the target
    db.session.execute(update(Booking).values(customer_id=target.id))
    db.session.execute(update(Customer).where(Customer.id == source.id).values(total_bookings=1))
    db.session.flush()
    signals.customers_merged.send(target, source=source, actor=None)
    db.session.commit()
    assert (source.total_bookings, target.total_bookings, target.completed_bookings) == (0, 1, 1)


@pytest.mark.parametrize("signal", [signals.bookings_transferred, signals.merge_undone])
def test_transfers_and_undos_recount_both(make_customer, make_booking, signal):
    a, b = make_customer(), make_customer()
    make_booking(a, status="no_show", days=-2)
    db.session.execute(update(Booking).values(customer_id=b.id))  # moved, counters not yet
    db.session.execute(update(Customer).where(Customer.id == a.id).values(total_bookings=1, no_shows=1))
    signal.send(b, source=a, actor=None)
    db.session.commit()
    assert (a.total_bookings, a.no_shows, b.total_bookings, b.no_shows) == (0, 0, 1, 1)


def test_merge_transfer_and_undo_announce_themselves(make_customer, make_booking, manager):
    heard = []

    def listen(name):
        return lambda sender, source, **kw: heard.append((name, sender.id, source.id))

    a, b, c = make_customer(), make_customer(), make_customer()
    make_booking(c)
    receivers = {
        s: listen(n)
        for s, n in (
            (signals.customers_merged, "merged"),
            (signals.bookings_transferred, "transferred"),
            (signals.merge_undone, "undone"),
        )
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    try:
        event = services.merge_customers(b, a, {}, manager)
        undo.undo_merge(event, manager)
        services.transfer_bookings(c, a, manager)
    finally:
        for signal, receiver in receivers.items():
            signal.disconnect(receiver)
    db.session.commit()
    assert heard == [("merged", a.id, b.id), ("undone", a.id, b.id), ("transferred", a.id, c.id)]


def test_anonymizing_forgets_booking_notes_and_keeps_the_figures(manager, make_customer, make_booking):
    from webapp.customers.erasure import anonymize

    customer = make_customer(first_name="Nora", email="nora@example.com")
    booking = make_booking(customer, notes="Allergic to latex", price=4500)
    anonymize(customer, manager)
    db.session.commit()
    db.session.refresh(booking)
    assert booking.notes == "" and booking.price == 4500 and booking.service
