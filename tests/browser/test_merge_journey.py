"""Journeys: merge duplicates found on /duplicates and undo; blacklist a customer and meet the picker."""

from datetime import date

from browser_support import assert_accessible, htmx_loaded, sign_in_browser
from helpers import PASSWORD
from webapp.bookings.counters import recount
from webapp.extensions import db
from webapp.merge.candidates import refresh_duplicates


def test_merge_duplicates_then_undo(desk, make_user, make_customer, make_booking, business):
    manager = make_user("manager", name="Max Manager")
    anna = make_customer(
        first_name="Anna",
        last_name="Müller",
        email="anna@example.com",
        phone="+447911123456",
        date_of_birth=date(1990, 3, 4),
    )
    ana = make_customer(
        first_name="Ana",
        last_name="Muller",
        email="ana.m@example.com",
        phone="+447911654321",
        date_of_birth=date(1990, 3, 4),
    )
    make_booking(anna, days=-10, status="completed", service="Colour")
    make_booking(ana, days=-20, status="completed", service="Manicure")
    make_booking(ana, days=3, service="Blow-dry")
    recount()
    refresh_duplicates(business.id)
    db.session.commit()

    sign_in_browser(desk, manager.email, PASSWORD)
    desk.get_by_role("link", name="Duplicates").click()
    desk.wait_for_url("**/duplicates")
    assert desk.get_by_text("Similar name (1 typo), same birth date").is_visible()
    assert_accessible(desk, "duplicates page")

    desk.get_by_role("link", name="Review and merge…").click()
    desk.wait_for_url("**/customers/merge?**")
    assert htmx_loaded(desk)
    assert_accessible(desk, "merge screen")
    # Ana (more bookings) survives; keep her phone, take Anna's email.
    desk.get_by_label("anna@example.com").check()
    desk.get_by_label("07911 654321").check()
    preview = desk.locator("#preview")
    preview.get_by_text("anna@example.com").wait_for()
    assert "1 booking moves to Ana Muller" in preview.inner_text()
    desk.get_by_role("button", name="Merge into Ana Muller").click()
    desk.wait_for_url(f"**/customers/{ana.id}")
    assert desk.get_by_text("Merged into Ana Muller").is_visible()
    for service in ("Colour", "Manicure", "Blow-dry"):
        assert desk.get_by_text(service).first.is_visible(), service
    assert desk.get_by_text("anna@example.com").first.is_visible()
    assert desk.get_by_text("07911 654321").first.is_visible()
    assert_accessible(desk, "survivor's profile after the merge")

    desk.goto(f"{desk.base}/customers/{anna.id}")  # the duplicate's old link
    desk.wait_for_url(f"**/customers/{ana.id}")

    desk.get_by_role("button", name="Undo merge").click()
    desk.wait_for_url(f"**/customers/{ana.id}")
    assert desk.get_by_text("Merge undone").first.is_visible()
    assert desk.get_by_text("ana.m@example.com").first.is_visible()
    assert not desk.get_by_text("Colour").count()
    desk.goto(f"{desk.base}/customers/{anna.id}")
    desk.wait_for_url(f"**/customers/{anna.id}")
    assert desk.get_by_role("heading", name="Anna Müller").is_visible()
    assert desk.get_by_text("anna@example.com").first.is_visible()
    assert desk.get_by_text("07911 123456").first.is_visible()
    assert desk.get_by_text("Colour").first.is_visible()
    assert not desk.js_errors, desk.js_errors


def test_blacklist_then_picker_refuses_without_override(desk, make_user, make_customer):
    manager = make_user("manager", name="Max Manager")
    receptionist = make_user("receptionist", name="Rita")
    vince = make_customer(first_name="Vince", last_name="Vega", phone="+447911222333")

    sign_in_browser(desk, manager.email, PASSWORD)
    desk.goto(f"{desk.base}/customers/{vince.id}")
    desk.get_by_role("main").get_by_role("link", name="Blacklist", exact=True).click()
    desk.wait_for_url("**/blacklist")
    assert_accessible(desk, "blacklist form")
    desk.get_by_role("button", name="Blacklist customer").click()
    assert desk.get_by_text("Say why, for whoever reviews this later.").first.is_visible()
    desk.get_by_label("Reason (staff only)").fill("Threatened a stylist")
    desk.get_by_role("button", name="Blacklist customer").click()
    desk.wait_for_url(f"**/customers/{vince.id}")
    assert desk.get_by_text("Vince Vega is now blacklisted.").is_visible()
    assert desk.get_by_text("Threatened a stylist").first.is_visible()

    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Blacklist").click()
    desk.wait_for_url("**/blacklist")
    assert desk.get_by_role("cell", name="Threatened a stylist").is_visible()
    assert_accessible(desk, "blacklist list")

    desk.goto(f"{desk.base}/picker")
    desk.get_by_label("Customer").fill("Vince")
    desk.get_by_role("link", name="Vince Vega").click()
    desk.get_by_text("is blocked from booking").wait_for()
    assert desk.get_by_label("Reason to book anyway (manager override)").is_visible()

    desk.get_by_role("button", name="Sign out").click()
    desk.wait_for_url("**/login**")
    sign_in_browser(desk, receptionist.email, PASSWORD)
    desk.goto(f"{desk.base}/picker")
    desk.get_by_label("Customer").fill("Vince")
    desk.get_by_role("link", name="Vince Vega").click()
    desk.get_by_text("is blocked from booking").wait_for()
    assert desk.get_by_text("Only a manager can override the blacklist.").is_visible()
    assert not desk.get_by_role("button", name="Override and pick").count()
    assert_accessible(desk, "picker refusing a blacklisted customer")
    errors = [e for e in desk.js_errors if "status of 422" not in e]  # the form sent without a reason
    assert not errors, errors


def test_merge_from_profile_and_ban_evasion_warning(desk, make_user, make_customer):
    from webapp.blacklist.services import blacklist
    from webapp.customers.services import update_customer

    manager = make_user("manager", name="Max Manager")
    zed = make_customer(first_name="Zed", last_name="Quinn", email="zed@example.com")
    make_customer(first_name="Zedd", last_name="Quinn", email="zedd@example.com")
    vic = make_customer(first_name="Vic", last_name="Banned", phone="+447911222333")
    blacklist(vic, manager, "Stole a hairdryer")
    # An edit changes the number: the old one is now a former contact detail.
    update_customer(vic, manager, {"phone": "+447911000111"}, expected_version=vic.version)
    db.session.commit()

    sign_in_browser(desk, manager.email, PASSWORD)
    desk.goto(f"{desk.base}/customers/{zed.id}")
    desk.get_by_role("link", name="Merge", exact=True).click()
    desk.wait_for_url("**/customers/merge?source=**")
    desk.get_by_label("Name, email or phone").fill("Quinn")
    desk.get_by_text("zedd@example.com").wait_for()
    assert_accessible(desk, "merge: choose the other customer")
    desk.get_by_role("link", name="Merge into Zed Quinn…").click()
    desk.wait_for_url("**/customers/merge?source=**&target=**")

    desk.goto(f"{desk.base}/customers/new")
    desk.get_by_label("First name").fill("Victor")
    desk.get_by_label("Phone").fill("07911 222333")
    desk.get_by_label("Phone").blur()
    warning = desk.get_by_text("Possible ban evasion")
    warning.wait_for()
    assert "Vic Banned" in warning.inner_text() and "Stole a hairdryer" in warning.inner_text()
    assert_accessible(desk, "new customer form with a ban-evasion warning")
    desk.get_by_role("button", name="Save customer").click()
    desk.wait_for_url("**/customers/*")
    assert desk.get_by_text("Possible ban evasion").first.is_visible()
    assert not desk.js_errors, desk.js_errors
