"""PUT/DELETE /customers/{id}/blacklist and GET /customers/blacklist: access, what they do, bad input."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from api_support import ACCESS_LEVELS, BASE, is_problem, key_headers
from webapp.extensions import db
from webapp.models import AuditEvent, Customer


def url(c) -> str:
    return f"{BASE}/customers/{c.id}/blacklist"


def restricted(c) -> bool:
    db.session.expire_all()
    return db.session.get(Customer, c.id).blacklisted_at is not None


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_access_levels(client, business, make_customer, access):
    c = make_customer()
    h = key_headers(business, access)
    calls = [
        client.put(url(c), json={"reason": "No-shows"}, headers=h),
        client.get(f"{BASE}/customers/blacklist", headers=h),
        client.delete(url(c), json={"reason": "Paid"}, headers=h),
    ]
    for r in calls:
        if access == "manager":
            assert r.status_code == 200, r.get_json()
        else:
            is_problem(r, 403)


def test_no_key_and_another_business(client, business, make_business, make_customer):
    theirs = make_customer(business_=make_business("Elsewhere"))
    h = key_headers(business)
    for headers, status in ((None, 401), (h, 404)):
        is_problem(client.put(url(theirs), json={"reason": "x"}, headers=headers), status)
        is_problem(client.delete(url(theirs), json={"reason": "x"}, headers=headers), status)
    is_problem(client.get(f"{BASE}/customers/blacklist"), 401)
    assert not restricted(theirs)


def test_blacklist_list_and_lift(client, business, make_customer):
    c, other = make_customer(), make_customer()
    h = key_headers(business)
    expires = (date.today() + timedelta(days=30)).isoformat()
    r = client.put(
        url(c), json={"blacklist_reason": "Abusive", "level": "warn", "expires_on": expires}, headers=h
    )
    body = r.get_json()
    assert r.status_code == 200 and body["is_blacklisted"] is False and body["blacklist_level"] == "warn"
    assert body["blacklist_reason"] == "Abusive" and r.headers["ETag"] == f'"{body["version"]}"'
    page = client.get(f"{BASE}/customers/blacklist", headers=h).get_json()
    assert [x["id"] for x in page["data"]] == [str(c.id)] and page["pagination"]["total"] == 1
    assert client.get(f"{BASE}/customers/blacklist?level=block", headers=h).get_json()["data"] == []
    r = client.put(url(c), json={"reason": "Worse", "level": "block"}, headers=h)
    assert r.get_json()["is_blacklisted"] is True
    r = client.delete(f"{url(c)}?reason=Apologised", headers=h)
    assert r.status_code == 200 and r.get_json()["blacklist_level"] is None and not restricted(c)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.unblacklisted"))
    assert event.changes["reason"] == "Apologised" and event.actor_label.endswith("manager key")
    assert not restricted(other)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "level": "ban"}, "level"),
        ({"reason": "x", "expires_on": "2000-01-01"}, "expires_on"),
        ({"reason": "x", "expires_on": "0000-00-00"}, "expires_on"),
        ({"reason": "x", "expires_on": "2999-01-01"}, "expires_on"),
        ({"reason": "x" * 2_000_000}, "reason"),
        ({"reason": ["x"]}, "reason"),
        ({"reason": "x", "id": str(uuid.uuid4())}, "id"),
    ],
)
def test_bad_blacklist_input_is_422_naming_the_field(client, business, make_customer, body, field):
    c = make_customer()
    is_problem(client.put(url(c), json=body, headers=key_headers(business)), 422, field)
    assert not restricted(c)


def test_lifting_needs_a_reason_and_a_restriction(client, business, make_customer):
    c = make_customer()
    h = key_headers(business)
    is_problem(client.delete(url(c), json={"reason": "x"}, headers=h), 422)  # not blacklisted
    client.put(url(c), json={"reason": "Rude"}, headers=h)
    is_problem(client.delete(url(c), headers=h), 422, "reason")
    is_problem(client.delete(url(c), json={"reason": ""}, headers=h), 422, "reason")
    assert restricted(c)


def test_stale_if_match_is_412(client, business, make_customer):
    c = make_customer()
    is_problem(
        client.put(url(c), json={"reason": "x"}, headers={**key_headers(business), "If-Match": '"999"'}), 412
    )
    assert not restricted(c)


def test_list_bad_query(client, business):
    h = key_headers(business)
    for q, field in (
        ("limit=0", "limit"),
        ("limit=1000000", "limit"),
        ("page=0", "page"),
        ("level=x", "level"),
    ):
        is_problem(client.get(f"{BASE}/customers/blacklist?{q}", headers=h), 422, field)


def test_stats_carry_the_customers_etag(client, business, make_customer):
    c = make_customer()
    r = client.get(f"{BASE}/customers/{c.id}/stats", headers=key_headers(business, "read"))
    assert r.status_code == 200 and r.headers["ETag"] == f'"{c.version}"'
