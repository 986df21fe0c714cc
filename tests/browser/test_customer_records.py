"""Journeys: add a customer with mistakes and fix them from the inline messages; add a walk-in and
complete it; a manager deletes; the owner manages tags — with an axe check on every screen."""

from browser_support import assert_accessible, htmx_loaded, sign_in_browser
from helpers import PASSWORD
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Customer


def test_create_customer_with_mistakes_then_fix_them(desk, make_user, make_customer, make_tag):
    user = make_user("receptionist", email="rita@example.com")
    grace = make_customer(first_name="Grace", last_name="Hopper", email="grace@example.com")
    make_tag("VIP", "gold")
    sign_in_browser(desk, user.email, PASSWORD)
    desk.goto(desk.base + "/customers/new")
    assert htmx_loaded(desk)
    assert_accessible(desk, "new customer")

    desk.get_by_label("First name").fill("Zoë")
    desk.get_by_label("Last name").fill("O'Brien")
    desk.get_by_label("Phone").fill("abc")
    desk.get_by_label("Email").focus()  # leaving the phone field checks it
    error = desk.locator("#phone-error")
    error.wait_for()
    assert "not a phone number" in error.inner_text()
    desk.get_by_label("Email").fill("GRACE@example.com")
    desk.get_by_label("Date of birth").focus()
    email_error = desk.locator("#email-error")
    email_error.wait_for()
    assert "Grace Hopper already has this email" in email_error.inner_text()
    assert (
        email_error.get_by_role("link", name="Grace Hopper").get_attribute("href") == f"/customers/{grace.id}"
    )
    assert_accessible(desk, "new customer with inline errors")

    # Saving anyway shows the same messages from the server.
    desk.get_by_role("button", name="Save customer").click()
    desk.locator(".form-errors").wait_for()
    assert "not a phone number" in desk.locator("#phone-error").inner_text()
    assert_accessible(desk, "new customer after a refused save")

    desk.get_by_label("Phone").fill("07400 123456")
    desk.get_by_label("Email").focus()
    desk.locator("#phone-ok").wait_for()
    assert "07400 123456" in desk.locator("#phone-ok").inner_text()
    desk.get_by_label("Email").fill("zoe@example.com")
    desk.get_by_label("Date of birth").focus()
    desk.locator("#email-error").wait_for(state="detached")
    desk.get_by_label("Date of birth").fill("1990-04-23")
    desk.get_by_text("VIP").click()
    desk.get_by_role("button", name="Save customer").click()
    desk.wait_for_url("**/customers/*-*")
    assert desk.get_by_role("heading", name="Zoë O'Brien").is_visible()
    assert desk.get_by_text("Customer added: Zoë O'Brien.").is_visible()
    assert desk.get_by_text("07400 123456").is_visible()
    assert_accessible(desk, "profile")
    # The refused save answered 422 (as designed); chromium logs that status. Nothing else may fail.
    assert [e for e in desk.js_errors if "status of 422" not in e] == [], desk.js_errors


def test_walk_in_then_complete_it(desk, make_user):
    user = make_user("receptionist", email="wally@example.com")
    sign_in_browser(desk, user.email, PASSWORD)
    desk.goto(desk.base + "/customers/new")
    desk.get_by_role("link", name="Walk-in").click()
    desk.wait_for_url("**walk_in=1")
    assert_accessible(desk, "new walk-in")
    label = desk.get_by_label("Placeholder label").input_value()
    assert label.startswith("Walk-in ")
    desk.get_by_role("button", name="Add walk-in").click()
    desk.wait_for_url("**/customers/*-*")
    assert desk.get_by_role("heading", name=label).is_visible()
    assert desk.locator(".badge", has_text="Placeholder").is_visible()

    desk.get_by_role("link", name="Complete details").click()
    assert_accessible(desk, "edit placeholder")
    desk.get_by_label("First name").fill("Sam")
    desk.get_by_label("Phone").fill("07400 222333")
    desk.get_by_role("button", name="Save changes").click()
    desk.wait_for_url("**/customers/*-*")
    assert desk.get_by_role("heading", name="Sam").is_visible()
    assert desk.locator(".badge", has_text="Placeholder").count() == 0
    c = db.session.scalars(select(Customer)).one()
    db.session.refresh(c)
    assert not c.is_dummy and c.phone == "+447400222333"
    assert not desk.js_errors, desk.js_errors


def test_manager_deletes_and_owner_manages_tags(desk, make_user, make_customer):
    owner = make_user("owner", email="olive@example.com")
    c = make_customer(first_name="Del", last_name="Boy")
    sign_in_browser(desk, owner.email, PASSWORD)
    desk.goto(desk.base + f"/customers/{c.id}")
    desk.get_by_role("link", name="Delete…").click()
    assert desk.get_by_text("will be deleted").is_visible()
    assert_accessible(desk, "delete confirmation")
    desk.get_by_role("button", name="Delete customer").click()
    desk.wait_for_url("**/customers")
    assert desk.get_by_text("Del Boy was deleted.").is_visible()

    desk.goto(desk.base + "/settings/tags")
    desk.get_by_label("Tag name").fill("Allergy")
    desk.get_by_label("Colour", exact=True).select_option("red")
    desk.get_by_role("button", name="Add tag").click()
    desk.wait_for_url("**/settings/tags")
    assert desk.locator(".chip-red", has_text="Allergy").is_visible()
    assert_accessible(desk, "settings tags")
    desk.goto(desk.base + "/settings/preferences")
    desk.get_by_label("Preference name").fill("SMS reminders")
    desk.get_by_role("button", name="Add preference").click()
    assert desk.get_by_text("Preference 'SMS reminders' added.").is_visible()
    assert_accessible(desk, "settings preferences")
    assert not desk.js_errors, desk.js_errors


def test_double_clicked_save_creates_one_customer(desk, make_user):
    user = make_user("receptionist", email="dbl@example.com")
    sign_in_browser(desk, user.email, PASSWORD)
    desk.goto(desk.base + "/customers/new")
    desk.get_by_label("First name").fill("Double")
    desk.get_by_label("Email").fill("double@example.com")
    desk.get_by_role("button", name="Save customer").dblclick()
    desk.wait_for_url("**/customers/*-*")
    desk.get_by_role("heading", name="Double").wait_for()
    assert len(db.session.scalars(select(Customer)).all()) == 1
