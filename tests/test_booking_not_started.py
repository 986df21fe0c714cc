"""A booking that has not started yet cannot be completed or marked a no-show (issue 15, item 1).

The rule lives in the bookings service, so the day list, the profile and any API share it; the day list
offers only "Cancel…" for a booking still ahead. "Started" compares instants (UTC), whatever the
business's timezone says the local date is.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpers import HX
from webapp.bookings import services
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Business, Customer


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def fresh(customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def actions_of(customer) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == customer.id)))


# --- the service --------------------------------------------------------------------------------


@pytest.mark.parametrize("change", [services.complete_booking, services.mark_no_show])
def test_a_future_booking_cannot_be_completed_or_a_no_show(make_customer, make_booking, make_user, change):
    customer = make_customer()
    booking = make_booking(customer, starts_at=now() + timedelta(days=17))
    with pytest.raises(Invalid) as e:
        change(booking, make_user("receptionist"))
    db.session.rollback()
    assert "has not started yet" in e.value.message
    assert "can be" in e.value.message and "once it has started" in e.value.message
    assert db.session.get(Booking, booking.id).status == "booked"
    after = fresh(customer)
    assert (after.completed_bookings, after.no_shows, after.last_visit_at) == (0, 0, None)
    assert actions_of(customer) == []


def test_the_refusal_says_when_it_starts_on_the_business_clock(
    make_customer, make_booking, make_user, business
):
    business.timezone = "Pacific/Kiritimati"  # UTC+14: the local date is a day ahead of UTC's
    db.session.commit()
    start = datetime(2030, 12, 20, 16, 0, tzinfo=UTC)  # 21 Dec 06:00 in Kiritimati
    booking = make_booking(make_customer(), starts_at=start)
    with pytest.raises(Invalid) as e:
        services.complete_booking(booking, make_user("receptionist"))
    db.session.rollback()
    assert "Sat 21 Dec 2030 at 06:00" in e.value.message


def test_started_is_an_instant_not_a_local_date(make_customer, make_booking, make_user, business):
    """Far east of UTC, a booking that began a minute ago is "tomorrow" by UTC's date, and one that begins in
    a minute is "today" on the local clock: only the instant decides."""
    business.timezone = "Pacific/Kiritimati"
    db.session.commit()
    customer = make_customer()
    began = make_booking(customer, starts_at=now() - timedelta(minutes=1))
    soon = make_booking(customer, starts_at=now() + timedelta(minutes=2))
    actor = make_user("receptionist")
    services.complete_booking(began, actor)
    db.session.commit()
    with pytest.raises(Invalid):
        services.mark_no_show(soon, actor)
    db.session.rollback()
    assert fresh(customer).completed_bookings == 1


def test_a_future_booking_can_still_be_cancelled(make_customer, make_booking, make_user):
    customer = make_customer()
    booking = make_booking(customer, starts_at=now() + timedelta(days=3))
    services.cancel_booking(booking, make_user("receptionist"), "customer")
    db.session.commit()
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_a_cancelled_future_booking_still_says_it_was_cancelled(make_customer, make_booking, make_user):
    booking = make_booking(
        make_customer(), starts_at=now() + timedelta(days=3), status="cancelled", cancelled_by="customer"
    )
    with pytest.raises(Invalid) as e:
        services.complete_booking(booking, make_user("receptionist"))
    db.session.rollback()
    assert e.value.message == "This booking was cancelled, so it cannot be completed."


# --- the screens --------------------------------------------------------------------------------


def test_the_day_list_offers_only_cancel_for_a_booking_still_ahead(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    business = db.session.get(Business, client.user.business_id)
    ahead = make_booking(make_customer(first_name="Ahead"), starts_at=now() + timedelta(days=1, minutes=5))
    began = make_booking(make_customer(first_name="Began"), starts_at=now() - timedelta(minutes=5))
    from webapp.bookings.times import zone

    for booking in (ahead, began):
        day = booking.starts_at.astimezone(zone(business.timezone)).date().isoformat()
        html = client.get(f"/bookings?day={day}").get_data(as_text=True)
        offered = f'action="/bookings/{booking.id}/complete"' in html
        assert offered == (booking is began)
        assert (f'action="/bookings/{booking.id}/no-show"' in html) == (booking is began)
        assert f'action="/bookings/{booking.id}/cancel"' in html


def test_posting_complete_for_a_future_booking_is_refused_in_the_row(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    booking = make_booking(customer, starts_at=now() + timedelta(days=17))
    r = client.post(f"/bookings/{booking.id}/complete", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "has not started yet" in html
    assert f'action="/bookings/{booking.id}/complete"' not in html  # the row comes back without it
    plain = client.post(f"/bookings/{booking.id}/no-show", follow_redirects=True)
    assert "has not started yet" in plain.get_data(as_text=True)
    assert fresh(customer).completed_bookings == 0 and fresh(customer).no_shows == 0
    assert fresh(customer).last_visit_at is None
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "booked"
