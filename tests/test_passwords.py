"""The password policy (ASVS 5.0), equal work for missing accounts, an owner's reset, HSTS, neutral emails."""

import argon2
import pytest
from sqlalchemy import select

from helpers import PASSWORD, sign_in
from webapp import create_app
from webapp.auth.passwords import hash_password, password_problem, verify_password, warm_dummy_hash
from webapp.extensions import db
from webapp.models import AuditEvent, StaffUser
from webapp.settings import services as settings_services


@pytest.fixture
def argon2_calls(monkeypatch):
    """Count argon2 hash and verify operations."""
    calls = []
    real_hash, real_verify = argon2.PasswordHasher.hash, argon2.PasswordHasher.verify

    def counting_hash(self, *a, **k):
        calls.append("hash")
        return real_hash(self, *a, **k)

    def counting_verify(self, *a, **k):
        calls.append("verify")
        return real_verify(self, *a, **k)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting_hash)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    return calls


def test_a_missing_account_costs_the_same_argon2_work_as_a_present_one(client, make_user, argon2_calls):
    make_user("receptionist", email="ann@example.com")
    warm_dummy_hash()  # done at start-up
    argon2_calls.clear()
    client.post("/login", data={"email": "ann@example.com", "password": "wrong password"})
    present = list(argon2_calls)
    argon2_calls.clear()
    client.post("/login", data={"email": "nobody@example.com", "password": "wrong password"})
    assert present == argon2_calls == ["verify"]


@pytest.mark.parametrize(
    "password, problem",
    [
        ("aaaaaaaaaa", "too common"),
        ("1234567890", "too common"),
        ("password123", "too common"),
        ("qwertyuiop", "too common"),
        ("\u200b" * 10, "not only spaces"),
        (" \u200d\ufeff\u2060 \u00a0  ", "not only spaces"),
        ("short12", "at least 8 characters"),
        ("x" * 257, "at most 256"),
        ("Ann@Example.com", "email address"),
    ],
)
def test_weak_passwords_are_refused(password, problem):
    assert problem in password_problem(password, "ann@example.com")


@pytest.mark.parametrize(
    "password",
    [
        "kx7#Qm2v",
        "zebra lamp",
        "pässwörd ünïcødé",
        "日本語のパスワード",
        "a long way round the bay, past three lighthouses and a pier, at dawn " * 3,
    ],
)
def test_any_characters_and_no_composition_rules(password):
    assert password_problem(password, "ann@example.com") is None


def test_passwords_are_compared_after_nfkc_normalization():
    stored = hash_password("\ufb01ne day at sea")  # the "fi" ligature
    assert verify_password(stored, "fine day at sea")
    decomposed = "cafe\u0301 au lait noir"  # e + combining accent; NFKC composes it
    assert verify_password(hash_password(decomposed), "caf\u00e9 au lait noir")


def test_a_hash_of_an_unnormalized_password_still_verifies():
    legacy = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("\ufb01ne day at sea")
    assert verify_password(legacy, "\ufb01ne day at sea")


def test_the_current_password_is_refused_as_the_new_one(app, make_user):
    user = make_user("receptionist")
    client = sign_in(app.test_client(), user)
    r = client.post("/account/password", data={"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 422 and "different from your current one" in r.text


@pytest.mark.parametrize("new, message", [("1234567890", "too common"), ("\u200b" * 10, "not only spaces")])
def test_problems_are_field_errors_on_the_form(app, make_user, new, message):
    client = sign_in(app.test_client(), make_user("receptionist"))
    r = client.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert r.status_code == 422
    field = r.text[r.text.index('name="new"') - 600 : r.text.index('name="new"') + 600]
    assert message in r.text and ("aria-invalid" in field or "error" in field)


def test_the_form_recommends_fifteen_characters(app, make_user):
    client = sign_in(app.test_client(), make_user("receptionist"))
    assert "15 or more is better" in client.get("/account/password").text


def test_changing_ones_password_is_audited(app, make_user):
    user = make_user("receptionist")
    client = sign_in(app.test_client(), user)
    new = "a brand new sentence"
    assert (
        client.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new}).status_code
        == 303
    )
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)).all()
    assert "staff.password_changed" in actions


def test_owner_resets_a_colleagues_password(app, login_as, make_user):
    owner = login_as("owner")
    colleague = make_user("receptionist", email="bea@example.com")
    colleague_browser = sign_in(app.test_client(), colleague)
    r = owner.post(f"/settings/staff/{colleague.id}/password")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    temporary = r.text.split('<code class="temporary-password">')[1].split("</code>")[0]
    db.session.expire_all()
    colleague = db.session.get(StaffUser, colleague.id)
    assert colleague.must_change_password and verify_password(colleague.password_hash, temporary)
    assert colleague_browser.get("/customers").status_code == 303  # their sessions ended
    fresh = app.test_client()
    r = fresh.post("/login", data={"email": "bea@example.com", "password": temporary})
    assert r.status_code == 303
    assert fresh.get("/customers").headers["Location"] == "/account/password"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.password_reset"))
    assert event.actor_id == owner.user.id and event.changes == {"email": "bea@example.com"}
    assert temporary not in str(event.changes)


def test_reset_is_not_for_oneself_nor_another_business(app, login_as, make_business, make_user):
    owner = login_as("owner")
    r = owner.post(f"/settings/staff/{owner.user.id}/password")
    assert r.status_code == 303 and r.headers["Location"] == "/settings/staff"
    elsewhere = make_user("receptionist", make_business("Elsewhere"))
    assert owner.post(f"/settings/staff/{elsewhere.id}/password").status_code == 404


def test_the_staff_screen_offers_the_reset(login_as, make_user):
    owner = login_as("owner")
    colleague = make_user("receptionist")
    assert f"/settings/staff/{colleague.id}/password" in owner.get("/settings/staff").text


def test_an_email_of_another_business_is_refused_without_saying_so(login_as, make_business, make_user):
    make_user("receptionist", make_business("Other Salon"), email="taken@example.com")
    owner = login_as("owner")
    r = owner.post(
        "/settings/staff",
        data={
            "name": "T",
            "email": "taken@example.com",
            "role": "receptionist",
            "password": "first password 1",
        },
    )
    assert r.status_code == 422
    assert "already" not in r.text and "signs in" not in r.text and "be used for a new colleague" in r.text


def test_staff_passwords_follow_the_policy(business, make_user):
    from webapp.errors import Invalid

    owner = make_user("owner")
    with pytest.raises(Invalid, match="too common"):
        settings_services.create_staff(
            business, email="n@b.test", name="N", role="manager", password="1234567890", actor=owner
        )


def test_hsts_outside_development(app):
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers
    secure = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SESSION_COOKIE_SECURE": True,
        }
    )
    r = secure.test_client().get("/healthz")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    with secure.app_context():
        db.engine.dispose()
