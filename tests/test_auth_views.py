"""Signing in and out, rate limits, open redirects, session invalidation."""

import logging

import pytest

from helpers import HX, PASSWORD, csrf_token_from, sign_in
from webapp.edge import safe_next
from webapp.extensions import db
from webapp.models import StaffUser


def test_sign_in_with_right_password(client, make_user):
    user = make_user("receptionist", email="ann@example.com")
    r = client.post("/login", data={"email": "ANN@example.com ", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "/customers"
    assert client.get("/customers").status_code == 200
    assert db.session.get(StaffUser, user.id).last_sign_in_at is not None


def test_login_page_has_labelled_fields(client):
    html = client.get("/login").text
    assert '<label class="label" for="email">Email</label>' in html
    assert '<label class="label" for="password">Password</label>' in html
    assert ">Sign in</button>" in html


@pytest.mark.parametrize(
    "email,password", [("ann@example.com", "wrong password"), ("nobody@example.com", PASSWORD)]
)
def test_wrong_credentials_are_refused_with_a_message(client, make_user, email, password):
    make_user("receptionist", email="ann@example.com")
    r = client.post("/login", data={"email": email, "password": password})
    assert r.status_code == 422
    assert "That email and password do not match an active account." in r.text
    assert client.get("/customers").status_code == 303


def test_deactivated_user_cannot_sign_in(client, make_user):
    make_user("receptionist", email="gone@example.com", active=False)
    r = client.post("/login", data={"email": "gone@example.com", "password": PASSWORD})
    assert r.status_code == 422


def test_oversized_fields_are_refused(client, make_user):
    r = client.post("/login", data={"email": "a" * 300 + "@example.com", "password": "x" * 300})
    assert r.status_code == 422
    assert "Field cannot be longer" in r.text or "longer than" in r.text


def test_sign_in_events_are_logged_without_password(client, make_user, caplog):
    make_user("receptionist", email="ann@example.com")
    with caplog.at_level(logging.INFO, logger="frontdesk.auth"):
        client.post("/login", data={"email": "ann@example.com", "password": "wrong password!"})
        client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    text = caplog.text
    assert "sign-in failed for 'ann@example.com'" in text and "sign-in of 'ann@example.com'" in text
    assert PASSWORD not in text and "wrong password!" not in text


def test_rate_limit_per_account_does_not_lock_out_colleagues(client, make_user):
    make_user("receptionist", email="ann@example.com")
    make_user("receptionist", email="bob@example.com")
    for _ in range(5):
        assert (
            client.post("/login", data={"email": "ann@example.com", "password": "wrong one"}).status_code
            == 422
        )
    r = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.text
    # Bob, at the same office address, still signs in.
    r = client.post("/login", data={"email": "bob@example.com", "password": PASSWORD})
    assert r.status_code == 303


def test_rate_limit_per_address(app, client, make_user):
    make_user("receptionist", email="ann@example.com")
    app.config["LOGIN_RATE_PER_ADDRESS"] = "3 per minute"
    try:
        for i in range(3):
            client.post("/login", data={"email": f"guess{i}@example.com", "password": "nope nope"})
        r = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
        assert r.status_code == 429
    finally:
        app.config["LOGIN_RATE_PER_ADDRESS"] = "60 per 5 minutes"


def test_successful_sign_ins_do_not_use_up_the_limit(client, make_user):
    make_user("receptionist", email="ann@example.com")
    for _ in range(8):
        assert (
            client.post("/login", data={"email": "ann@example.com", "password": PASSWORD}).status_code == 303
        )
        client.post("/logout")


def test_sign_out_then_replayed_cookie_is_refused(app, make_user):
    user = make_user("receptionist")
    client = sign_in(app.test_client(), user)
    assert client.get("/customers").status_code == 200
    cookie = client.get_cookie("frontdesk_session").value
    assert client.post("/logout").status_code == 303
    replay = app.test_client()
    replay.set_cookie("frontdesk_session", cookie)
    r = replay.get("/customers")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")


@pytest.mark.parametrize("change", ["deactivate", "password", "role"])
def test_account_changes_end_existing_sessions(app, make_user, change):
    user = make_user("manager")
    client = sign_in(app.test_client(), user)
    assert client.get("/customers").status_code == 200
    user = db.session.get(StaffUser, user.id)
    if change == "deactivate":
        user.active = False
    user.end_sessions()  # every service that deactivates or changes password/role calls this
    db.session.commit()
    assert client.get("/customers").status_code == 303


def test_owner_deactivating_staff_ends_their_session(app, login_as, make_user):
    owner = login_as("owner")
    victim = make_user("receptionist")
    victim_client = sign_in(app.test_client(), victim)
    assert victim_client.get("/customers").status_code == 200
    r = owner.post(f"/settings/staff/{victim.id}", data={"role": "receptionist"})
    assert r.status_code == 303
    assert victim_client.get("/customers").status_code == 303


def test_sign_in_reissues_session_and_csrf_token(csrf_app, make_user):
    make_user("receptionist", email="ann@example.com")
    client = csrf_app.test_client()
    page = client.get("/login")
    token_before = csrf_token_from(page.data)
    cookie_before = client.get_cookie("frontdesk_session").value
    r = client.post(
        "/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": token_before}
    )
    assert r.status_code == 303
    assert client.get_cookie("frontdesk_session").value != cookie_before
    token_after = csrf_token_from(client.get("/settings/../account/password").data)
    assert token_after != token_before


def test_csrf_missing_or_wrong_is_refused(csrf_app, make_user):
    make_user("receptionist", email="ann@example.com")
    client = csrf_app.test_client()
    client.get("/login")
    r = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert r.status_code == 400
    assert "This form has expired" in r.text
    r = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400


def test_csrf_token_in_htmx_header_is_accepted(csrf_app, make_user):
    user = make_user("receptionist")
    client = sign_in(csrf_app.test_client(), user)
    token = csrf_token_from(client.get("/customers").data)
    assert client.post("/logout", headers={**HX, "X-CSRFToken": token}).status_code == 303


OPEN_REDIRECTS = [
    "http://evil.com",
    "https://evil.com/",
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "http:/\\/evil.com",
    "http:\\\\evil.com",
    "java\nscript:alert(1)",
    "javascript:alert(1)",
    "\x08//evil.com",
    "http:evil.com",
    "/\t/evil.com",
    " //evil.com",
    "evil.com",
    "",
    "ftp://evil.com",
    "/%09/evil.com",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_refuses_open_redirects(client, make_user, target):
    make_user("receptionist", email="ann@example.com")
    r = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD, "next": target})
    assert r.status_code == 303
    assert r.headers["Location"] == "/customers"


@pytest.mark.parametrize("target", ["/settings", "/customers?q=ann", "/customers/new"])
def test_next_keeps_local_paths(target):
    assert safe_next(target) == target


def test_expired_session_on_htmx_request_redirects_whole_page(client):
    r = client.get("/customers", headers=HX)
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login")
    assert "<form" not in r.text


def test_idle_timeout_ends_session(app, make_user):
    user = make_user("receptionist")
    client = sign_in(app.test_client(), user)
    with client.session_transaction() as s:
        s["seen_at"] -= int(app.config["SESSION_IDLE_TIMEOUT"].total_seconds()) + 5
    assert client.get("/customers").status_code == 303


def test_absolute_timeout_ends_session(app, make_user):
    user = make_user("receptionist")
    client = sign_in(app.test_client(), user)
    with client.session_transaction() as s:
        s["signed_in_at"] -= int(app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()) + 5
    assert client.get("/customers").status_code == 303


def test_first_password_must_be_changed(app, make_user):
    user = make_user("receptionist", must_change_password=True)
    client = sign_in(app.test_client(), user)
    r = client.get("/customers")
    assert r.status_code == 303 and r.headers["Location"] == "/account/password"
    r = client.post("/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert r.status_code == 422 and "at least 8 characters" in r.text
    r = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a brand new one", "confirm": "a brand new one"},
    )
    assert r.status_code == 303
    assert client.get("/customers").status_code == 200
