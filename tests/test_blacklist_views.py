"""Blacklist screens: the form (page, fragment, boosted), lifting, the list with reviews and suggestions."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from helpers import HX, HX_BOOSTED
from webapp.blacklist import history as blacklist_history
from webapp.blacklist import services
from webapp.extensions import db
from webapp.models import AuditEvent


@pytest.fixture
def manager_client(login_as):
    return login_as("manager")


@pytest.mark.parametrize("headers", [{}, HX, HX_BOOSTED])
def test_form_page_fragment_and_boosted(manager_client, make_customer, headers):
    c = make_customer(first_name="Zoë")
    r = manager_client.get(f"/customers/{c.id}/blacklist", headers=headers)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Reason (staff only)" in html and "Lapses on" in html
    assert ("<html" in html) == (headers != HX)


def test_blacklist_without_reason_is_422(manager_client, make_customer):
    c = make_customer()
    r = manager_client.post(f"/customers/{c.id}/blacklist", data={"reason": " ", "level": "block"})
    assert r.status_code == 422
    assert "Say why" in r.get_data(as_text=True)
    assert c.blacklisted_at is None


def test_blacklist_with_level_and_expiry(manager_client, make_customer):
    c = make_customer()
    expiry = date.today() + timedelta(days=30)
    r = manager_client.post(
        f"/customers/{c.id}/blacklist",
        data={"reason": "Late payer", "level": "warn", "expires_on": expiry.isoformat()},
    )
    assert r.status_code == 303
    assert c.restriction == "warn" and c.blacklist_expires_on == expiry
    r = manager_client.post(
        f"/customers/{c.id}/blacklist", data={"reason": "x", "level": "block", "expires_on": "2001-01-01"}
    )
    assert r.status_code == 422 and "must be in the future" in r.get_data(as_text=True)


def test_unblacklist_needs_a_reason(manager_client, make_customer, make_user):
    c = make_customer()
    services.blacklist(c, make_user("manager"), "Rude")
    db.session.commit()
    r = manager_client.post(f"/customers/{c.id}/unblacklist", data={"reason": ""})
    assert r.status_code == 422 and "Say why the restriction is lifted" in r.get_data(as_text=True)
    assert c.is_blacklisted
    r = manager_client.post(f"/customers/{c.id}/unblacklist", data={"reason": "Apologised"})
    assert r.status_code == 303 and not c.is_blacklisted


def test_other_business_is_404(manager_client, make_customer, make_business):
    other = make_customer(business_=make_business("Other"))
    assert manager_client.get(f"/customers/{other.id}/blacklist").status_code == 404
    assert manager_client.post(f"/customers/{other.id}/unblacklist", data={"reason": "x"}).status_code == 404
    assert manager_client.post(f"/blacklist/{other.id}/review").status_code == 404


def test_list_shows_reason_by_whom_and_review(manager_client, make_customer, make_user, count_queries):
    boss = make_user("manager", name="Maya Boss")
    old, new = make_customer(first_name="Old"), make_customer(first_name="New")
    services.blacklist(old, boss, "Threw a chair")
    services.blacklist(new, boss, "Card declined twice", level="warn")
    old.blacklisted_at = old.blacklisted_at - timedelta(days=400)
    db.session.commit()
    with count_queries() as q:
        r = manager_client.get("/blacklist")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Threw a chair" in html and "Maya Boss" in html and "Never" in html
    assert html.index("Old Test") < html.index("New Test"), "stalest first"
    assert q.count <= 12, q.count
    r = manager_client.get("/blacklist?level=warn", headers=HX)
    assert "Card declined twice" in r.get_data(as_text=True) and "Threw a chair" not in r.get_data(
        as_text=True
    )
    r = manager_client.post(f"/blacklist/{old.id}/review", data={"next": "/blacklist?sort=since"})
    assert r.status_code == 303 and r.headers["Location"] == "/blacklist?sort=since"
    assert old.blacklist_reviewed_at is not None
    table = manager_client.get("/blacklist").get_data(as_text=True).split("<tbody>")[1]
    assert table.index("New Test") < table.index("Old Test"), "the reviewed one goes to the end"
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
        "customer.blacklist_reviewed"
    )


def test_review_refuses_foreign_next(manager_client, make_customer, make_user):
    c = make_customer()
    services.blacklist(c, make_user("manager"), "Rude")
    db.session.commit()
    r = manager_client.post(f"/blacklist/{c.id}/review", data={"next": "//evil.example"})
    assert r.headers["Location"] == "/blacklist"


def test_list_shows_suggestions(manager_client, make_customer, make_booking):
    c = make_customer(first_name="Flaky")
    for d in (-1, -2, -3):
        make_booking(c, days=d, status="no_show")
    html = manager_client.get("/blacklist").get_data(as_text=True)
    assert "Suggested for review" in html and "Flaky Test" in html


def test_profile_panel_renders(app, manager_client, make_customer, make_user):
    from flask import render_template

    c = make_customer()
    services.blacklist(
        c, make_user("manager", name="Maya"), "Threw a chair", expires_on=date.today() + timedelta(3)
    )
    db.session.commit()
    from helpers import sign_in  # noqa: F401

    with app.test_request_context():
        from flask_login import login_user

        login_user(make_user("manager"))
        html = render_template(
            "blacklist/_profile_panel.html", customer=c, **blacklist_history.profile_context(c)
        )
    assert "Threw a chair" in html and "by Maya" in html and "Unblacklist" in html


@pytest.mark.parametrize(
    "next_", ["/%09/evil.example/", "//evil.example", "/\\evil.example", "https://evil.example/"]
)
def test_lift_and_review_refuse_encoded_foreign_next(manager_client, make_customer, make_user, next_):
    """The sign-in's strict check: a tab or an encoding trick never turns `next` into another host."""
    c = make_customer()
    services.blacklist(c, make_user("manager"), "Rude")
    db.session.commit()
    r = manager_client.post(f"/blacklist/{c.id}/review", data={"next": next_})
    assert r.status_code == 303 and r.headers["Location"] == "/blacklist"
    r = manager_client.post(f"/customers/{c.id}/unblacklist", data={"reason": "Fine now", "next": next_})
    assert r.status_code == 303 and r.headers["Location"] == f"/customers/{c.id}"
