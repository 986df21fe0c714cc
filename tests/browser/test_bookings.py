"""Journey: book a customer, mark the booking a no-show on the day list (row swapped in place), and see
the profile's no-show tile and history change — with an axe check on every bookings screen."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from browser_support import assert_accessible, htmx_loaded, sign_in_browser, wait_htmx_idle
from helpers import PASSWORD


def no_show_tile(page) -> str:
    """The number on the profile's No-shows tile."""
    tile = page.locator(".booking-stats .stat").filter(
        has=page.locator("dt", has_text=re.compile("^No-shows$"))
    )
    return tile.locator("dd").inner_text().split("\n")[0].strip()


def pick_customer(page, typed: str, name: str) -> None:
    """Pick the customer in the calendar picker embedded in the booking form (keyboard: ↓ then Enter)."""
    box = page.get_by_role("searchbox", name="Customer")
    box.fill(typed)
    page.locator(".picker-option", has_text=name).first.wait_for()
    wait_htmx_idle(page)
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(".picker-chosen", has_text=name).wait_for()


def test_book_then_no_show_then_profile_changes(desk, make_user, make_customer):
    user = make_user("receptionist", email="rita@example.com")
    ana = make_customer(first_name="Ana", last_name="Lima", phone="+447400123456")
    sign_in_browser(desk, user.email, PASSWORD)

    desk.goto(f"{desk.base}/customers/{ana.id}")
    assert no_show_tile(desk) == "0"
    assert desk.get_by_text("No bookings", exact=True).is_visible()

    desk.goto(desk.base + "/bookings/new")
    assert htmx_loaded(desk)
    assert_accessible(desk, "new booking")
    desk.evaluate("window.__same_page = true")
    pick_customer(desk, "Lim", "Ana Lima")
    assert desk.evaluate("window.__same_page === true"), "picking happens in place"
    assert desk.locator("input[name=customer_id]").get_attribute("value") == str(ana.id)
    assert_accessible(desk, "new booking with a customer picked")
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    desk.get_by_label("Service").fill("Colour")
    desk.get_by_label("Staff").fill("Chloe")
    desk.get_by_label("Price").fill("85")
    desk.get_by_label("Date").fill(today)
    desk.get_by_label("Start").fill("08:00")
    desk.get_by_label("End").fill("07:00")  # a mistake first
    desk.get_by_role("button", name="Book").click()
    assert "The end must be after the start." in desk.locator("#end_time-error").inner_text()
    assert_accessible(desk, "new booking with an error")
    desk.get_by_label("End").fill("09:30")
    desk.get_by_role("button", name="Book").click()
    desk.wait_for_url(f"**/bookings?day={today}")
    assert desk.get_by_text("Booked Ana Lima: Colour.").is_visible()
    row = desk.locator("tr.booking-row", has_text="Ana Lima")
    assert "08:00" in row.inner_text() and "£85.00" in row.inner_text()
    assert_accessible(desk, "today's bookings")

    desk.evaluate("window.__same_page = true")
    row.get_by_role("button", name="No-show").click()
    row.locator(".badge", has_text="No-show").wait_for()
    assert desk.evaluate("window.__same_page === true"), "the row should swap in place, not reload the page"
    assert row.get_by_role("button", name="Complete").count() == 0
    day_no_shows = desk.locator("#day-stats .stat").filter(has=desk.locator("dt", has_text="No-shows"))
    expect(day_no_shows.locator("dd")).to_have_text("1")  # the day's totals refreshed after the swap
    assert_accessible(desk, "today's bookings after a no-show")

    desk.goto(f"{desk.base}/customers/{ana.id}")
    assert no_show_tile(desk) == "1"
    history = desk.locator("#booking-history")
    assert "Colour" in history.inner_text() and "No-show" in history.inner_text()
    history.get_by_role("link", name="Completed").click()
    history.get_by_text("No completed bookings").wait_for()
    assert desk.url.endswith("?status=completed")
    assert_accessible(desk, "profile with bookings")
    desk.go_back()  # htmx restores the pushed profile URL from the server: the whole page comes back
    desk.wait_for_url(f"**/customers/{ana.id}")
    expect(desk.get_by_role("heading", name="Ana Lima", level=1)).to_be_visible()
    expect(desk.locator("#booking-history")).to_contain_text("Colour")
    assert [e for e in desk.js_errors if "status of 422" not in e] == [], desk.js_errors


def test_row_actions_work_without_javascript(browser, live_server, make_user, make_customer, make_booking):
    """With JavaScript off, the buttons are plain forms that post and come back to the list."""
    from datetime import UTC, timedelta

    user = make_user("receptionist", email="nojs@example.com")
    ana = make_customer(first_name="Ana", last_name="Lima")
    start = datetime.now(ZoneInfo("Europe/London")).replace(hour=12, minute=0, second=0, microsecond=0)
    make_booking(ana, starts_at=start.astimezone(UTC), ends_at=(start + timedelta(hours=1)).astimezone(UTC))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.base = live_server.url
    sign_in_browser(page, user.email, PASSWORD)
    page.goto(page.base + "/bookings")
    row = page.locator("tr.booking-row", has_text="Ana Lima")
    row.locator("summary").click()
    row.get_by_role("button", name="Cancelled by customer").click()
    page.wait_for_url("**/bookings?day=*")
    assert page.get_by_text("Cancelled: Ana Lima, Cut.").is_visible()
    assert "Cancelled by customer" in page.locator("tr.booking-row", has_text="Ana Lima").inner_text()
    context.close()
