"""API keys: digests, authentication, access levels, the owner's screen, the command, auditing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from api_support import BASE, is_problem, key_headers
from helpers import csrf_token_from
from webapp.api.keys import create_key, revoke_key
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent
from webapp.models.api import key_digest, split_key


def test_only_a_keyed_digest_is_stored(app, business):
    key, text = create_key(business, "Widget", "read", None)
    db.session.commit()
    prefix, secret = split_key(text)
    assert text.startswith("fd_") and key.prefix == prefix and len(secret) >= 40
    assert key.digest == key_digest(secret, app.secret_key) and secret not in key.digest
    assert key.matches(secret, app.secret_key) and not key.matches(secret + "x", app.secret_key)


@pytest.mark.parametrize(
    "header",
    ["Bearer fd_deadbeef_nope", "Bearer nonsense", "Basic abc", "Bearer ", "Bearer fd_x_y_z", "Token fd_a_b"],
)
def test_unknown_or_malformed_keys_are_401(client, business, header):
    is_problem(client.get(f"{BASE}/customers", headers={"Authorization": header}), 401)


def test_keys_whose_secret_holds_underscores_work(client, business, monkeypatch):
    from webapp.api import keys

    monkeypatch.setattr(keys, "new_key_parts", lambda: ("0badcafe", "a_b_c" + "x" * 40))
    headers = key_headers(business, "read")
    assert headers["Authorization"].startswith("Bearer fd_0badcafe_a_b_c")
    r = client.get(f"{BASE}/customers", headers=headers)
    assert r.status_code == 200 and r.headers["RateLimit-Remaining"]


def test_a_right_prefix_with_a_wrong_secret_is_401(client, business):
    headers = key_headers(business)
    forged = headers["Authorization"][:-3] + "abc"
    is_problem(client.get(f"{BASE}/customers", headers={"Authorization": forged}), 401)


def test_a_revoked_key_is_401(client, business, make_user):
    headers = key_headers(business)
    assert client.get(f"{BASE}/customers", headers=headers).status_code == 200
    key = db.session.scalar(select(ApiKey))
    assert revoke_key(key, make_user("owner")) and not revoke_key(key, None)
    db.session.commit()
    is_problem(client.get(f"{BASE}/customers", headers=headers), 401)


def test_last_used_is_written_at_most_every_few_minutes(client, business):
    headers = key_headers(business)
    client.get(f"{BASE}/customers", headers=headers)
    key = db.session.scalar(select(ApiKey))
    first = key.last_used_at
    assert first is not None
    client.get(f"{BASE}/customers", headers=headers)
    db.session.refresh(key)
    assert key.last_used_at == first  # no write on every request
    key.last_used_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    client.get(f"{BASE}/customers", headers=headers)
    db.session.refresh(key)
    assert key.last_used_at > first


def test_access_levels_follow_the_staff_roles(client, business):
    read, desk = key_headers(business, "read"), key_headers(business, "desk")
    body = {"first_name": "Ann", "email": "ann@example.com"}
    assert client.get(f"{BASE}/customers", headers=read).status_code == 200
    is_problem(client.post(f"{BASE}/customers", json=body, headers=read), 403)
    assert client.post(f"{BASE}/customers", json=body, headers=desk).status_code == 201


def test_a_key_opens_only_the_api(client, business):
    headers = key_headers(business)
    r = client.get("/customers", headers=headers)
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")


def test_the_owner_creates_lists_and_revokes_keys(app, login_as, client):
    owner = login_as("owner")
    page = owner.get("/settings/api-keys")
    assert page.status_code == 200 and b"No keys yet" in page.data
    r = owner.post("/settings/api-keys", data={"name": "Till 1", "access": "desk"})
    assert r.status_code == 201
    html = r.get_data(as_text=True)
    key = db.session.scalar(select(ApiKey))
    text = html.split('id="new-key" class="key-text" value="')[1].split('"')[0]
    assert (
        text.startswith(f"fd_{key.prefix}_") and key.access == "desk" and key.created_by_id == owner.user.id
    )
    assert "<script>" not in html and "data-copy-target" in html  # no inline script (CSP)
    assert text not in owner.get("/settings/api-keys").get_data(as_text=True)  # shown once
    assert client.get(f"{BASE}/customers", headers={"Authorization": f"Bearer {text}"}).status_code == 200
    r = owner.post(f"/settings/api-keys/{key.id}/revoke")
    assert r.status_code == 303
    assert client.get(f"{BASE}/customers", headers={"Authorization": f"Bearer {text}"}).status_code == 401
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"api_key.created", "api_key.revoked"} <= actions


def test_the_key_form_refuses_bad_input(login_as):
    owner = login_as("owner")
    assert owner.post("/settings/api-keys", data={"name": "", "access": "desk"}).status_code == 422
    assert owner.post("/settings/api-keys", data={"name": "x", "access": "root"}).status_code == 422
    assert db.session.scalar(select(ApiKey)) is None


def test_another_business_cannot_revoke_a_key(login_as, make_business):
    other = make_business("Elsewhere")
    key, _ = create_key(other, "Theirs", "read", None)
    db.session.commit()
    r = login_as("owner").post(f"/settings/api-keys/{key.id}/revoke")
    assert r.status_code == 404
    db.session.refresh(key)
    assert key.revoked_at is None


def test_the_key_screen_with_csrf_on(app, login_as):
    owner = login_as("owner")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert owner.post("/settings/api-keys", data={"name": "x", "access": "read"}).status_code == 400
        token = csrf_token_from(owner.get("/settings/api-keys").data)
        r = owner.post("/settings/api-keys", data={"name": "x", "access": "read", "csrf_token": token})
        assert r.status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_create_api_key_command_prints_the_key_last(app, business, client):
    r = app.test_cli_runner().invoke(
        args=["create-api-key", "--business", business.name, "--name", "Website", "--access", "desk"]
    )
    assert r.exit_code == 0, r.output
    text = r.output.strip().splitlines()[-1]
    assert text.startswith("fd_") and " " not in text
    assert client.get(f"{BASE}/customers", headers={"Authorization": f"Bearer {text}"}).status_code == 200
    bad = app.test_cli_runner().invoke(args=["create-api-key", "--business", "Nobody", "--name", "x"])
    assert bad.exit_code != 0


def test_writes_through_a_key_are_audited_with_the_key_as_actor(client, business, login_as):
    headers = key_headers(business, "desk", name="Booking widget")
    r = client.post(
        f"{BASE}/customers", json={"first_name": "Ann", "email": "a@example.com"}, headers=headers
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.created"))
    assert event.actor_id is None and event.actor_label == "API key Booking widget"
    profile = login_as("receptionist").get(f"/customers/{r.get_json()['id']}")
    assert "API key Booking widget" in profile.get_data(as_text=True)
