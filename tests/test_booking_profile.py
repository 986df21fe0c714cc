"""The profile's bookings section, its history fragment, the stats API and `flask recount`."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import g, render_template_string
from sqlalchemy import select

from helpers import HX
from webapp.bookings import counters
from webapp.bookings.chart import visits_chart
from webapp.bookings.profile import PROFILE_QUERIES, profile_context, visits_per_month
from webapp.extensions import db
from webapp.models import Business, Customer, Location
from webapp.money.sales import record_sale

NOW = datetime.now(UTC).replace(microsecond=0)


def render_section(app, customer, args=None) -> str:
    """Render the include as the profile page does, inside a request of the customer's business."""
    with app.test_request_context(f"/customers/{customer.id}"):
        g.business = db.session.get(Business, customer.business_id)
        ctx = profile_context(customer, args or {})
        return render_template_string('{% include "bookings/_profile.html" %}', customer=customer, **ctx)


def paid(booking) -> None:
    """Record the sale of a direct-row completed booking (completing one through the service does it):
    spend is counted by sales, not bookings."""
    customer = db.session.get(Customer, booking.customer_id)
    record_sale(customer, total=booking.price, actor=None, booking=booking, description=booking.service)
    db.session.commit()


def with_counters(customer) -> Customer:
    """Bring the direct-row customer's counters in step with its bookings."""
    counters.recount(customer_ids=[customer.id])
    db.session.commit()
    return db.session.get(Customer, customer.id)


def test_tiles_show_the_counters(app, make_customer, make_booking):
    customer = make_customer()
    paid(make_booking(customer, days=-40, status="completed", price=4000))
    paid(make_booking(customer, days=-10, status="completed", price=6000))
    make_booking(customer, days=-5, status="cancelled", cancelled_by="customer")
    make_booking(customer, days=-4, status="cancelled", cancelled_by="business")
    make_booking(customer, days=-3, status="no_show")
    make_booking(customer, days=3)
    html = render_section(app, with_counters(customer))
    tiles = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>([^<]*)", html))
    assert tiles["Total bookings"] == "6"
    assert tiles["Upcoming"] == "1"
    assert tiles["Cancellations"] == "2"
    assert "1 by the customer · 1 by us" in html
    assert tiles["No-shows"] == "1"
    assert tiles["Visits"] == "2"
    assert tiles["Total spent"] == "£100.00"
    assert tiles["Average spend"] == "£50.00"
    assert "Frequent no-shows" not in html


def test_frequent_no_shows_badge(app, make_customer, make_booking):
    customer = make_customer()
    make_booking(customer, days=-100, status="no_show")  # outside the window
    make_booking(customer, days=-20, status="no_show")
    assert "Frequent no-shows" not in render_section(app, with_counters(customer))
    make_booking(customer, days=-2, status="no_show")
    html = render_section(app, with_counters(customer))
    assert "Frequent no-shows: 2 in 90 days" in html


def test_chart_counts_completed_visits_by_local_month(app, business, make_customer, make_booking):
    customer = make_customer()
    make_booking(customer, days=-1, status="completed")
    make_booking(customer, days=-1, status="no_show")
    make_booking(customer, days=-800, status="completed")  # older than 24 months
    g.business = business
    months = visits_per_month(customer, "Europe/London")
    assert len(months) == 24
    assert sum(n for _, n in months) == 1
    chart = visits_chart(months)
    assert len(chart.bars) == 24 and chart.summary.startswith("1 visit from ")


def test_chart_uses_the_business_clock_at_a_month_edge(app, make_business, make_customer, make_booking):
    """23:30 UTC on the last day of a month is already the next month in Auckland."""
    shop = make_business("Kiwi", timezone="Pacific/Auckland")
    loc = db.session.scalar(select(Location).where(Location.business_id == shop.id))
    customer = make_customer(business_=shop)
    first_of_month = datetime.now(UTC).replace(day=1, hour=23, minute=30, second=0, microsecond=0)
    last_of_prev = first_of_month - timedelta(days=1)  # UTC: previous month; Auckland: this month
    make_booking(customer, starts_at=last_of_prev, status="completed", location_=loc)
    months = visits_per_month(customer, "Pacific/Auckland")
    nz_month = last_of_prev.astimezone(ZoneInfo("Pacific/Auckland"))
    counted = [m for m, n in months if n]
    assert counted == [nz_month.date().replace(day=1)]


def test_svg_chart_has_a_text_alternative(app, make_customer, make_booking):
    customer = make_customer()
    make_booking(customer, days=-1, status="completed")
    html = render_section(app, with_counters(customer))
    assert '<svg class="visits-chart"' in html and 'role="img"' in html
    assert '<desc id="visits-desc">1 visit from' in html
    assert "Visits per month as a table" in html
    assert "style=" not in html  # the CSP forbids inline styles


def test_history_is_newest_first_paginated_and_filtered(app, login_as, make_customer, make_booking):
    customer = make_customer()
    for i in range(25):
        make_booking(
            customer, days=-i - 1, service=f"Visit {i:02d}", status="completed" if i % 2 else "booked"
        )
    html = render_section(app, with_counters(customer))
    rows = re.findall(r"<td>(Visit \d\d)</td>", html)
    assert rows == [f"Visit {i:02d}" for i in range(20)]
    assert f'href="/customers/{customer.id}?page=2#booking-history"' in html
    assert f'hx-get="/customers/{customer.id}/bookings?page=2"' in html
    page2 = render_section(app, customer, {"page": "2"})
    assert re.findall(r"<td>(Visit \d\d)</td>", page2) == [f"Visit {i:02d}" for i in range(20, 25)]
    completed = render_section(app, customer, {"status": "completed"})
    assert re.findall(r"<td>(Visit \d\d)</td>", completed) == [f"Visit {i:02d}" for i in range(1, 25, 2)]
    assert render_section(app, customer, {"status": "nonsense", "page": "x"}).count("<td>Visit") == 20


def test_history_shows_local_date_time_staff_price_status(app, make_customer, make_booking):
    customer = make_customer()
    make_booking(
        customer,
        starts_at=datetime(2025, 7, 1, 8, 0, tzinfo=UTC),
        status="cancelled",
        cancelled_by="business",
        staff_name="Chloe",
        price=1234,
    )
    html = render_section(app, customer)
    assert "Tue 1 Jul 2025" in html and "09:00–10:00" in html  # BST
    assert "Chloe" in html and "£12.34" in html and "Cancelled by us" in html


def test_history_fragment_endpoint(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    make_booking(customer, days=-1, status="no_show", service="Colour")
    make_booking(customer, days=-2, status="completed", service="Cut")
    fragment = client.get(f"/customers/{customer.id}/bookings?status=no_show", headers=HX).get_data(
        as_text=True
    )
    assert "<html" not in fragment and "Colour" in fragment and "<td>Cut</td>" not in fragment
    page = client.get(f"/customers/{customer.id}/bookings").get_data(as_text=True)
    assert "<html" in page and "Bookings of Ana" in page and "Colour" in page


def test_history_of_another_business_customer_is_404(login_as, make_business, make_customer):
    client = login_as("receptionist")
    stranger = make_customer(business_=make_business("Elsewhere"))
    assert client.get(f"/customers/{stranger.id}/bookings").status_code == 404


@pytest.mark.parametrize("bookings", [0, 60])
def test_the_section_runs_a_constant_number_of_queries(
    app, make_customer, make_booking, count_queries, bookings
):
    customer = make_customer()
    for i in range(bookings):
        make_booking(customer, days=(i % 40) - 20, status=("booked", "completed", "no_show")[i % 3])
    customer = with_counters(customer)
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    customer.first_name  # noqa: B018  (the profile view has the customer loaded)
    db.session.get(Business, customer.business_id).name  # noqa: B018  (and g.business, by the sign-in)
    with count_queries() as q:
        render_section(app, customer, {"page": "2", "status": "completed"} if bookings else {})
    assert q.count == PROFILE_QUERIES, q.statements


# --- stats API ----------------------------------------------------------------------------------


def test_stats_api(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana", blacklist_reason="", is_dummy=False)
    paid(make_booking(customer, days=-3, status="completed", price=3000))
    make_booking(customer, days=-2, status="cancelled", cancelled_by="customer")
    make_booking(customer, days=-1, status="cancelled", cancelled_by="business")
    make_booking(customer, days=2)
    with_counters(customer)
    body = client.get(f"/api/v1/merchant/customers/{customer.id}/stats").get_json()
    assert body["id"] == str(customer.id) and body["first_name"] == "Ana"
    assert body["is_dummy"] is False and body["is_blacklisted"] is False and body["blacklist_reason"] == ""
    assert body["total_bookings"] == 4
    assert body["total_cancellations"] == 1  # by the customer, as the booking system counts them
    assert body["cancellations_by_business"] == 1
    assert body["upcoming_bookings"] == 1
    assert body["total_spent"] == 3000
    assert [b["status"] for b in body["bookings"]] == ["booked", "cancelled", "cancelled", "completed"]
    assert body["bookings"][0]["location"] == "Main"
    one = client.get(f"/api/v1/merchant/customers/{customer.id}/stats?limit=1&page=2").get_json()
    assert len(one["bookings"]) == 1 and one["bookings_page"]["has_next"] is True


def test_stats_api_blacklisted_and_404(login_as, make_business, make_customer):
    client = login_as("receptionist")
    customer = make_customer(blacklisted_at=NOW, blacklist_reason="Unpaid bill.", blacklist_level="block")
    body = client.get(f"/api/v1/merchant/customers/{customer.id}/stats").get_json()
    assert body["is_blacklisted"] is True and body["blacklist_reason"] == "Unpaid bill."
    stranger = make_customer(business_=make_business("Elsewhere"))
    r = client.get(f"/api/v1/merchant/customers/{stranger.id}/stats")
    assert r.status_code == 404 and r.get_json()["code"] == "not_found"  # problem+json (RFC 9457)


def test_stats_api_needs_sign_in(client, make_customer):
    r = client.get(f"/api/v1/merchant/customers/{make_customer().id}/stats")
    assert r.status_code == 401


# --- recount ------------------------------------------------------------------------------------


def test_recount_repairs_wrong_counters_and_reports_how_many(app, make_customer, make_booking):
    right, wrong, empty, emptied = (make_customer() for _ in range(4))
    make_booking(right, days=-1, status="completed", price=100)
    make_booking(wrong, days=-1, status="completed", price=700)
    make_booking(wrong, days=-2, status="no_show")
    counters.recount(customer_ids=[right.id])
    db.session.execute(
        counters.update(Customer).where(Customer.id == emptied.id).values(total_bookings=3, no_shows=1)
    )
    db.session.commit()
    assert counters.recount() == 2  # `wrong` (never counted) and `emptied` (no bookings left)
    db.session.commit()
    for c in (right, wrong, empty, emptied):
        c = db.session.get(Customer, c.id)
        row = db.session.execute(counters.aggregates_query(customer_ids=[c.id])).first()
        want = {n: getattr(row, n) for n in counters.COUNTERS} if row else counters.ZERO
        assert {n: getattr(c, n) for n in counters.COUNTERS} == want
    # Spend is what the sales say (none here), not the bookings: recount leaves it alone.
    assert db.session.get(Customer, wrong.id).total_spent == 0
    assert counters.recount() == 0


def test_recount_keeps_version_and_scope(app, make_business, make_customer, make_booking):
    other = make_business("Elsewhere")
    mine, theirs = make_customer(), make_customer(business_=other)
    make_booking(mine, days=-1)
    version = mine.version
    assert counters.recount(business_id=mine.business_id) == 1
    db.session.commit()
    assert db.session.get(Customer, mine.id).version == version
    db.session.execute(counters.update(Customer).where(Customer.id == theirs.id).values(no_shows=5))
    db.session.commit()
    assert counters.recount(business_id=mine.business_id) == 0
    assert counters.recount(customer_ids=[theirs.id]) == 1


def test_recount_command(app, make_customer, make_booking):
    customer = make_customer()
    make_booking(customer, days=-1, status="completed")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert "Fixed the counters of 1 customer in" in result.output
    assert "already right" in runner.invoke(args=["recount"]).output
    assert "No business called" in runner.invoke(args=["recount", "--business", "Nope"]).output


# --- through the real profile page (customers.profile includes the section) --------------------------


def test_profile_page_shows_the_bookings_section(login_as, make_customer, make_booking):
    client = login_as("receptionist")
    customer = make_customer(first_name="Ana")
    make_booking(customer, days=-2, status="no_show", service="Colour")
    make_booking(customer, days=-1, status="no_show", service="Cut")
    make_booking(customer, days=5, service="Blow-dry")
    with_counters(customer)
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Frequent no-shows: 2 in 90 days" in html
    assert "Visits per month" in html and "Blow-dry" in html and "Booking history" in html
    assert f"/bookings/new?customer={customer.id}" in html
    filtered = client.get(f"/customers/{customer.id}?status=no_show").get_data(as_text=True)
    assert "<td>Colour</td>" in filtered and "<td>Blow-dry</td>" not in filtered


def test_profile_page_queries_do_not_grow_with_bookings(login_as, make_customer, make_booking, count_queries):
    client = login_as("receptionist")
    few, many = make_customer(), make_customer()
    make_booking(few, days=-1, status="completed")
    for i in range(80):
        make_booking(
            many,
            days=(i % 50) - 30,
            status=("booked", "completed", "no_show", "cancelled")[i % 4],
            cancelled_by="customer" if i % 4 == 3 else None,
        )
    with_counters(few), with_counters(many)
    client.get(f"/customers/{few.id}")  # warm up
    with count_queries() as q1:
        client.get(f"/customers/{few.id}")
    with count_queries() as q2:
        client.get(f"/customers/{many.id}?page=2")
    assert q1.count == q2.count
