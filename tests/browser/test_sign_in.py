"""Journey: sign in, see Customers, sign out, with an accessibility check on each screen."""

from browser_support import assert_accessible, htmx_loaded, sign_in_browser
from helpers import PASSWORD


def test_sign_in_see_customers_sign_out(desk, make_user, make_customer):
    user = make_user("receptionist", email="rita@example.com")
    make_customer(first_name="Zoë", last_name="Ng")
    desk.goto(desk.base + "/login")
    assert_accessible(desk, "sign-in page")
    sign_in_browser(desk, user.email, PASSWORD)
    assert desk.get_by_role("heading", name="Customers").is_visible()
    assert htmx_loaded(desk), "htmx did not load (integrity check or CSP failed)"
    assert desk.get_by_text("Zoë Ng").first.is_visible()
    assert_accessible(desk, "customers page")
    desk.get_by_role("button", name="Sign out").click()
    desk.wait_for_url("**/login**")
    assert desk.get_by_text("You are signed out.").is_visible()
    desk.goto(desk.base + "/customers")
    desk.wait_for_url("**/login**")
    assert not desk.js_errors, desk.js_errors


def test_wrong_password_shows_message(desk, make_user):
    user = make_user("receptionist")
    desk.goto(desk.base + "/login")
    desk.get_by_label("Email").fill(user.email)
    desk.get_by_label("Password").fill("not the password")
    desk.get_by_role("button", name="Sign in").click()
    assert desk.get_by_text("That email and password do not match an active account.").is_visible()
    assert_accessible(desk, "sign-in page with an error")
