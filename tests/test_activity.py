"""Sign-ins, failures, sign-outs and password changes are audited; the owner's Activity screen shows them."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from helpers import PASSWORD
from webapp.extensions import db
from webapp.models import AuditEvent


def actions(business_id):
    return db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.business_id == business_id).order_by(AuditEvent.id)
    ).all()


def test_sign_in_failure_and_sign_out_are_audited_on_the_business(app, business, make_user):
    user = make_user("receptionist", email="ann@example.com")
    client = app.test_client()
    client.post("/login", data={"email": "ann@example.com", "password": "wrong password"})
    client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    client.post("/logout")
    assert actions(business.id) == ["staff.sign_in_failed", "staff.signed_in", "staff.signed_out"]
    failed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.sign_in_failed"))
    assert failed.actor_id is None and failed.actor_label == "ann@example.com"
    assert failed.changes == {"email": "ann@example.com", "address": "127.0.0.1"}
    signed_in = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.signed_in"))
    assert signed_in.actor_id == user.id and "wrong password" not in str(signed_in.changes)


def test_failures_for_unknown_accounts_are_only_logged(app, business, caplog):
    app.test_client().post("/login", data={"email": "ghost@example.com", "password": "wrong password"})
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == 0
    assert "sign-in failed for 'ghost@example.com'" in caplog.text


def test_activity_lists_staff_and_settings_events_newest_first(login_as, make_business, make_customer):
    sydney = make_business("Sydney Salon", timezone="Australia/Sydney")
    owner = login_as("owner", sydney)
    customer = make_customer(sydney)
    at = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 10:30 on the 16th in Sydney (UTC+11)
    db.session.add_all(
        [
            AuditEvent(business_id=sydney.id, actor_label="Olive", action="location.added",
                       changes={"location": "Bondi"}, created_at=at),
            AuditEvent(business_id=sydney.id, actor_label="Olive", action="staff.password_reset",
                       changes={"email": "bea@example.com"}, created_at=at + timedelta(hours=1)),
            AuditEvent(business_id=sydney.id, actor_label="Olive", action="customer.updated",
                       customer_id=customer.id, changes={"first_name": ["A", "B"]}, created_at=at),
            AuditEvent(business_id=sydney.id, actor_label="x",
                       action="business.updated", changes={}, created_at=at - timedelta(days=400)),
        ]
    )  # fmt: skip
    other = make_business("Other Salon")
    db.session.add(AuditEvent(business_id=other.id, actor_label="Eve", action="location.added",
                              changes={"location": "Elsewhere"}, created_at=at))  # fmt: skip
    db.session.commit()
    r = owner.get("/settings/activity")
    assert r.status_code == 200
    text = r.text
    assert (
        text.index("Reset a colleague") < text.index("Added a location") < text.index("Changed the business")
    )
    assert "16 Jan 2026, 10:30" in text and "Bondi" in text
    assert "customer.updated" not in text and "Elsewhere" not in text


def test_activity_is_paginated(login_as, business):
    owner = login_as("owner")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    db.session.add_all(
        AuditEvent(business_id=business.id, actor_label="Olive", action="location.renamed",
                   changes={"name": [f"Old {i}", f"New {i}"]}, created_at=start + timedelta(minutes=i))
        for i in range(51)
    )  # fmt: skip
    db.session.commit()
    first = owner.get("/settings/activity").text
    assert "New 50</td>" in first and "New 0</td>" not in first and 'rel="next"' in first
    second = owner.get("/settings/activity?page=2").text
    assert "New 0</td>" in second and "New 50</td>" not in second and 'rel="prev"' in second
    assert owner.get("/settings/activity?page=99999999999999999999").status_code == 200


def test_activity_is_for_owners_and_in_the_settings_nav(login_as):
    assert login_as("manager").get("/settings/activity").status_code == 403
    owner = login_as("owner")
    assert 'href="/settings/activity"' in owner.get("/settings/staff").text


def test_settings_is_the_current_section_on_every_settings_page(login_as):
    client = login_as("owner")
    for path in ("/settings", "/settings/activity", "/settings/api-keys", "/settings/staff"):
        html = client.get(path).get_data(as_text=True)
        assert '<a href="/settings" aria-current="page">Settings</a>' in html, path
        assert html.count('aria-current="page"') >= 1
    html = client.get("/customers").get_data(as_text=True)
    assert '<a href="/customers" aria-current="page">Customers</a>' in html
