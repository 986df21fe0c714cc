"""The bookings screens: today's list with row actions, the new-booking form, its bad input."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from helpers import HX, HX_BOOSTED
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Customer, Location

LONDON = ZoneInfo("Europe/London")


def today_at(hour: int, minute: int = 0) -> datetime:
    """Today at a London wall-clock time, in UTC."""
    return datetime.now(LONDON).replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)


def booking_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def fresh(customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def form_data(customer, location, **over):
    data = {
        "customer_id": str(customer.id),
        "location_id": str(location.id),
        "service": "Cut and finish",
        "staff_name": "Amira",
        "day": "2026-07-14",
        "start_time": "10:00",
        "end_time": "11:00",
        "price": "45.00",
        "notes": "Fringe only",
    }
    data.update(over)
    return data


# --- today's list -----------------------------------------------------------------------------


def test_today_lists_the_days_bookings_at_my_location(login_as, make_customer, make_booking, make_business):
    client = login_as("receptionist")
    ana = make_customer(first_name="Ana", last_name="Lima", phone="+447400123456")
    make_booking(ana, starts_at=today_at(10, 30), service="Colour", price=8500)
    make_booking(make_customer(first_name="Yesterday"), starts_at=today_at(10) - timedelta(days=1))
    other = Location(business_id=ana.business_id, name="Annexe")
    db.session.add(other)
    db.session.commit()
    make_booking(make_customer(first_name="Elsewhere"), starts_at=today_at(11), location_=other)
    r = client.get("/bookings")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Ana Lima" in html and "10:30" in html and "Colour" in html and "£85.00" in html
    assert "07400 123456" in html
    assert "Yesterday" not in html and "Elsewhere" not in html
    assert 'id="day-list"' in html


def test_today_as_fragment_and_boosted(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    make_booking(make_customer(first_name="Ana"), starts_at=today_at(9))
    fragment = client.get("/bookings", headers=HX).get_data(as_text=True)
    assert "Ana" in fragment and "<html" not in fragment
    boosted = client.get("/bookings", headers=HX_BOOSTED).get_data(as_text=True)
    assert "<html" in boosted


def test_another_day_and_an_empty_day(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    make_booking(make_customer(first_name="Tomorrow"), starts_at=today_at(9) + timedelta(days=1))
    tomorrow = (datetime.now(LONDON) + timedelta(days=1)).date().isoformat()
    assert "Tomorrow" in client.get(f"/bookings?day={tomorrow}").get_data(as_text=True)
    html = client.get("/bookings?day=2001-01-01").get_data(as_text=True)
    assert "No bookings" in html
    assert client.get("/bookings?day=not-a-day").status_code == 200


def test_other_business_bookings_are_invisible(login_as, make_business, make_customer, make_booking):
    client = login_as("receptionist")
    other = make_business("Elsewhere")
    loc = db.session.scalar(select(Location).where(Location.business_id == other.id))
    make_booking(make_customer(business_=other, first_name="Stranger"), starts_at=today_at(9), location_=loc)
    assert "Stranger" not in client.get("/bookings").get_data(as_text=True)


# --- row actions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, form, status, counter",
    [
        ("complete", {}, "completed", "completed_bookings"),
        ("no-show", {}, "no_show", "no_shows"),
        ("cancel", {"by": "customer"}, "cancelled", "cancellations_by_customer"),
        ("cancel", {"by": "business"}, "cancelled", "cancellations_by_business"),
    ],
)
def test_htmx_actions_swap_the_row(login_as, make_customer, make_booking, action, form, status, counter):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    booking = make_booking(customer, starts_at=today_at(0))  # midnight: started, so it can be completed
    r = client.post(f"/bookings/{booking.id}/{action}", data=form, headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert html.lstrip().startswith(f'<tr id="booking-{booking.id}"')
    assert f'hx-post="/bookings/{booking.id}/complete"' not in html  # no more actions
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == status
    assert getattr(fresh(customer), counter) == 1


def test_plain_action_redirects_back_with_a_message(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    booking = make_booking(make_customer(first_name="Ana"), starts_at=today_at(0))
    day = datetime.now(LONDON).date().isoformat()
    r = client.post(f"/bookings/{booking.id}/no-show", data={"next": f"/bookings?day={day}"})
    assert r.status_code == 303
    assert r.headers["Location"] == f"/bookings?day={day}"
    assert "Marked as a no-show: Ana" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_an_outside_next_is_ignored(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    booking = make_booking(make_customer(), starts_at=today_at(0))
    r = client.post(f"/bookings/{booking.id}/complete", data={"next": "https://evil.example/"})
    assert r.headers["Location"] == "/bookings"


def test_completing_a_cancelled_booking_shows_why_in_the_row(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    customer = make_customer()
    booking = make_booking(customer, starts_at=today_at(9), status="cancelled", cancelled_by="customer")
    before = fresh(customer).completed_bookings
    r = client.post(f"/bookings/{booking.id}/complete", headers=HX)
    assert r.status_code == 422
    assert "This booking was cancelled, so it cannot be completed." in r.get_data(as_text=True)
    assert fresh(customer).completed_bookings == before
    plain = client.post(f"/bookings/{booking.id}/cancel", data={"by": "customer"}, follow_redirects=True)
    assert "This booking is already cancelled." in plain.get_data(as_text=True)


def test_cancel_needs_to_know_who(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    booking = make_booking(make_customer(), starts_at=today_at(9))
    r = client.post(f"/bookings/{booking.id}/cancel", data={"by": "martians"}, headers=HX)
    assert r.status_code == 422
    assert "Say who cancelled" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "booked"


def test_another_business_booking_is_404(login_as, make_business, make_customer, make_booking):
    client = login_as("receptionist")
    other = make_business("Elsewhere")
    loc = db.session.scalar(select(Location).where(Location.business_id == other.id))
    booking = make_booking(make_customer(business_=other), location_=loc)
    assert client.post(f"/bookings/{booking.id}/complete").status_code == 404
    assert client.post("/bookings/00000000-0000-4000-8000-000000000000/complete").status_code == 404


# --- new booking --------------------------------------------------------------------------------


def test_new_booking_form_prefills_the_customer(login_as, make_customer):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana", last_name="Lima")
    html = client.get(f"/bookings/new?customer={customer.id}").get_data(as_text=True)
    assert "Ana Lima" in html
    assert f'<input type="hidden" name="customer_id" value="{customer.id}">' in html
    assert f'hx-get="/picker?customer={customer.id}"' in html  # the picker opens on that customer
    assert 'type="time"' in html and 'type="date"' in html


def test_new_booking_without_a_customer_embeds_the_picker(login_as):
    client = login_as("receptionist")
    html = client.get("/bookings/new").get_data(as_text=True)
    assert 'id="customer-picker" hx-get="/picker"' in html and 'hx-trigger="load"' in html
    assert ">Find the customer</a>" in html  # without JavaScript: the picker's own page
    assert 'name="customer_id"' not in html


def test_picking_a_customer_loads_their_warnings(login_as, make_customer):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    blacklist(customer, level="warn")
    r = client.get(f"/bookings/new?part=customer&customer_id={customer.id}", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<form" not in html
    assert "Take care with Ana Test." in html and "Abusive to staff." in html
    assert client.get("/bookings/new?part=customer", headers=HX).get_data(as_text=True).strip() == ""


def test_booking_in_local_time_is_stored_in_utc(login_as, make_customer, location):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    r = client.post("/bookings/new", data=form_data(customer, location))
    assert r.status_code == 303
    assert r.headers["Location"] == "/bookings?day=2026-07-14"
    booking = db.session.scalar(select(Booking))
    assert booking.starts_at == datetime(2026, 7, 14, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert booking.ends_at == datetime(2026, 7, 14, 10, 0, tzinfo=UTC)
    assert (
        booking.price == 4500 and booking.notes == "Fringe only" and booking.created_by_id == client.user.id
    )
    assert fresh(customer).total_bookings == 1
    page = client.get("/bookings?day=2026-07-14").get_data(as_text=True)
    assert "10:00" in page and "Booked Ana" in page


def test_booking_from_a_profile_returns_there(login_as, make_customer, location):
    client = login_as("receptionist")
    customer = make_customer()
    r = client.post(
        f"/bookings/new?customer={customer.id}&next=/customers/{customer.id}",
        data=form_data(customer, location),
    )
    assert r.headers["Location"] == f"/customers/{customer.id}"


@pytest.mark.parametrize(
    "over, field, message",
    [
        ({"end_time": "09:00"}, "end_time", "The end must be after the start."),
        ({"day": "2026-03-29", "start_time": "01:30", "end_time": "03:00"}, "start_time", "does not exist"),
        ({"day": "2026-10-25", "start_time": "01:30", "end_time": "03:00"}, "start_time", "happens twice"),
        ({"price": "-5"}, "price", "The price cannot be below zero."),
        ({"price": "4.555"}, "price", "Use at most two decimal places."),
        ({"customer_id": ""}, "customer_id", "Choose a customer."),
        ({"customer_id": "00000000-0000-4000-8000-000000000000"}, "customer_id", "not in this business"),
        ({"location_id": "999999"}, "location_id", "Choose one of this business"),
        ({"service": ""}, "service", "Say what the booking is for."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(login_as, make_customer, location, over, field, message):
    client = login_as("receptionist")
    customer = make_customer()
    r = client.post("/bookings/new", data=form_data(customer, location, **over))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert message in html
    assert f'id="{field}-error"' in html
    assert booking_count() == 0
    assert fresh(customer).total_bookings == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_another_business_customer_cannot_be_booked(login_as, make_business, make_customer, location):
    client = login_as("receptionist")
    stranger = make_customer(business_=make_business("Elsewhere"))
    r = client.post("/bookings/new", data=form_data(stranger, location))
    assert r.status_code == 422
    assert "That customer is not in this business&#39;s book." in r.get_data(as_text=True)
    assert booking_count() == 0 and fresh(stranger).total_bookings == 0


def test_another_business_location_cannot_be_used(login_as, make_business, make_customer):
    client = login_as("receptionist")
    other = make_business("Elsewhere")
    loc = db.session.scalar(select(Location).where(Location.business_id == other.id))
    r = client.post("/bookings/new", data=form_data(make_customer(), loc))
    assert r.status_code == 422 and booking_count() == 0


def test_the_form_as_an_htmx_fragment(login_as, make_customer, location):
    client = login_as("receptionist")
    r = client.post("/bookings/new", data=form_data(make_customer(), location, price="-1"), headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "<html" not in html and "below zero" in html


def test_an_overlap_asks_to_confirm(login_as, make_customer, location):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    assert client.post("/bookings/new", data=form_data(customer, location)).status_code == 303
    r = client.post("/bookings/new", data=form_data(customer, location, start_time="10:30", end_time="11:30"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "already has Cut and finish at 14 Jul 10:00" in html
    assert 'name="allow_overlap"' in html
    r = client.post(
        "/bookings/new",
        data=form_data(customer, location, start_time="10:30", end_time="11:30", allow_overlap="y"),
    )
    assert r.status_code == 303
    assert fresh(customer).total_bookings == 2


def blacklist(customer, level="block"):
    customer.blacklisted_at = datetime.now(UTC)
    customer.blacklist_reason = "Abusive to staff."
    customer.blacklist_level = level
    db.session.commit()


def test_a_receptionist_cannot_book_a_blacklisted_customer(login_as, make_customer, location):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    blacklist(customer)
    page = client.get(f"/bookings/new?customer={customer.id}").get_data(as_text=True)
    assert "Ana Test is blacklisted." in page and "Only a manager can book" in page
    assert 'name="override_reason"' not in page
    r = client.post("/bookings/new", data=form_data(customer, location, override_reason="please"))
    assert r.status_code == 422 and booking_count() == 0


def test_a_manager_is_sent_to_the_picker_to_override(login_as, make_customer, location):
    client = login_as("manager")
    customer = make_customer()
    blacklist(customer)
    page = client.get(f"/bookings/new?customer={customer.id}").get_data(as_text=True)
    assert f'href="/picker/choose/{customer.id}">override the blacklist</a>' in page
    r = client.post("/bookings/new", data=form_data(customer, location))
    assert r.status_code == 422 and "Give a reason to book anyway" in r.get_data(as_text=True)
    assert 'id="customer_id-error"' in r.get_data(as_text=True) and booking_count() == 0


def test_a_warn_level_customer_shows_a_warning_and_books(login_as, make_customer, location):
    client = login_as("receptionist")
    customer = make_customer()
    blacklist(customer, level="warn")
    assert "Take care with" in client.get(f"/bookings/new?customer={customer.id}").get_data(as_text=True)
    assert client.post("/bookings/new", data=form_data(customer, location)).status_code == 303


def test_booking_with_csrf_on_needs_the_token(csrf_app, login_as, make_customer, location):
    from helpers import csrf_token_from

    client = login_as("receptionist")
    customer = make_customer()
    assert client.post("/bookings/new", data=form_data(customer, location)).status_code == 400
    token = csrf_token_from(client.get("/bookings/new").get_data(as_text=True))
    r = client.post("/bookings/new", data=form_data(customer, location, csrf_token=token))
    assert r.status_code == 303


def test_a_row_action_refreshes_the_days_totals(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    booking = make_booking(make_customer(), starts_at=today_at(0), price=4000)
    r = client.post(f"/bookings/{booking.id}/complete", headers=HX)
    assert r.headers["HX-Trigger"] == "bookings-changed"
    day = datetime.now(LONDON).date().isoformat()
    stats = client.get(f"/bookings?day={day}&part=stats", headers=HX).get_data(as_text=True)
    assert stats.lstrip().startswith('<dl class="stats day-stats" id="day-stats"')
    assert "£40.00" in stats and "<table" not in stats


def test_a_picker_override_lets_the_same_manager_book(login_as, make_customer, location, make_user):
    from webapp.audit import record

    client = login_as("manager")
    customer = make_customer()
    blacklist(customer)
    event = record(client.user, "customer.blacklist_override", customer, reason="Paid the old bill.")
    db.session.commit()
    page = client.get(f"/bookings/new?customer={customer.id}&override={event.id}").get_data(as_text=True)
    assert "You overrode the blacklist: “Paid the old bill.”" in page
    assert f'<input type="hidden" name="override_id" value="{event.id}">' in page
    assert f'hx-get="/picker?customer={customer.id}&amp;override={event.id}"' in page
    other = make_user("manager")
    others = record(other, "customer.blacklist_override", customer, reason="Not yours.")
    db.session.commit()
    r = client.post("/bookings/new", data=form_data(customer, location, override_id=str(others.id)))
    assert r.status_code == 422 and booking_count() == 0  # another manager's override does not count
    r = client.post("/bookings/new", data=form_data(customer, location, override_id=str(event.id)))
    assert r.status_code == 303
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.blacklist_override"))
    assert audit.changes["reason"] == "Paid the old bill."


def test_the_back_button_gets_the_whole_page(login_as, make_customer, make_booking):
    """htmx restores a pushed URL (day list, profile history) with HX-Request set: it needs the page."""
    client = login_as("receptionist")
    make_booking(make_customer(first_name="Ana"), starts_at=today_at(9))
    r = client.get("/bookings", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in r.get_data(as_text=True)
    assert "HX-History-Restore-Request" in r.headers["Vary"]
