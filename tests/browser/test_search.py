"""Journeys: find a customer by a phone fragment with the keyboard alone; book a walk-in from the picker."""

import re

from playwright.sync_api import expect

from browser_support import assert_accessible, htmx_loaded, sign_in_browser, wait_htmx_idle
from helpers import PASSWORD


def test_phone_fragment_with_spaces_then_arrows_and_enter_open_the_customer(desk, make_user, make_customer):
    user = make_user("receptionist", email="rita@example.com")
    make_customer(first_name="Ann", last_name="Other", phone="+447700123456")
    target = make_customer(first_name="Zoë", last_name="Ng", phone="+447911123456")
    make_customer(first_name="Zed", last_name="Ng", phone="+447911999999")
    sign_in_browser(desk, user.email, PASSWORD)
    assert htmx_loaded(desk)
    assert_accessible(desk, "customers page")

    desk.locator("body").click()  # focus leaves the box, so "/" has to bring it back
    desk.keyboard.press("/")
    assert desk.evaluate("document.activeElement.id") == "q"
    desk.keyboard.type("07911 123", delay=20)
    desk.wait_for_url(re.compile(r"/customers\?q=07911(\+|%20)123$"))  # the address keeps in step
    expect(desk.locator("[data-result]")).to_have_count(1)
    assert desk.get_by_role("status").filter(has_text="1 customer found").count() == 1
    desk.keyboard.press("ArrowDown")
    focused = desk.evaluate("document.activeElement.textContent")
    assert focused == "Zoë Ng"
    assert_accessible(desk, "customers page with results")
    desk.keyboard.press("Enter")
    desk.wait_for_url(f"**/customers/{target.id}")
    assert not desk.js_errors, desk.js_errors


def test_arrows_move_through_several_results_and_back_to_the_box(desk, make_user, make_customer):
    user = make_user("receptionist")
    for first in ("Sam", "Sara", "Sasha"):
        make_customer(first_name=first, last_name="Lee")
    sign_in_browser(desk, user.email, PASSWORD)
    desk.get_by_label("Search customers").fill("sa")
    expect(desk.locator("[data-result]")).to_have_count(3)
    desk.get_by_label("Search customers").focus()
    desk.keyboard.press("ArrowDown")
    desk.keyboard.press("ArrowDown")
    assert desk.evaluate("document.activeElement.textContent") == "Sara Lee"
    desk.keyboard.press("ArrowUp")
    desk.keyboard.press("ArrowUp")
    assert desk.evaluate("document.activeElement.id") == "q"


def test_the_picker_books_a_walk_in_without_a_page_load(desk, make_user, make_customer):
    user = make_user("receptionist")
    make_customer(first_name="Ann", last_name="Lee", phone="+447911123456")
    sign_in_browser(desk, user.email, PASSWORD)
    desk.goto(desk.base + "/picker")
    assert_accessible(desk, "picker page")
    desk.evaluate("window.__noReload = 'still here'")
    picked = []
    desk.expose_function("notePicked", lambda detail: picked.append(detail))
    desk.evaluate("document.body.addEventListener('customer-picked', e => window.notePicked(e.detail))")

    desk.get_by_role("searchbox", name="Customer").fill("ann")
    expect(desk.locator("#picker-results [data-result]")).to_have_count(1)
    assert_accessible(desk, "picker with results")
    desk.get_by_role("button", name="Walk-in").click()
    desk.wait_for_selector("input[name=customer_id]", state="attached")
    assert desk.evaluate("window.__noReload") == "still here", "the page reloaded"
    assert "/picker" in desk.url and "walk-in" not in desk.url
    assert desk.get_by_text(re.compile(r"Walk-in \d\d:\d\d")).is_visible()
    assert desk.get_by_text("Placeholder").is_visible()
    assert picked and picked[0]["name"].startswith("Walk-in")
    assert not desk.js_errors, desk.js_errors


def test_the_picker_picks_with_the_keyboard(desk, make_user, make_customer):
    user = make_user("receptionist")
    target = make_customer(first_name="José", last_name="Alvarez", phone="+447911123456")
    sign_in_browser(desk, user.email, PASSWORD)
    desk.goto(desk.base + "/picker")
    desk.get_by_role("searchbox", name="Customer").fill("jose")
    expect(desk.locator("#picker-results [data-result]")).to_have_count(1)
    wait_htmx_idle(desk)
    desk.get_by_role("searchbox", name="Customer").focus()
    desk.keyboard.press("ArrowDown")
    desk.keyboard.press("Enter")
    desk.wait_for_selector("input[name=customer_id]", state="attached")
    assert desk.locator("input[name=customer_id]").get_attribute("value") == str(target.id)
    assert_accessible(desk, "picker with a customer picked")
