"""POST /customers/upsert: the CRM's find-by-email-or-phone, else create; access, bad input."""

import pytest
from sqlalchemy import func, select

from api_support import ACCESS_LEVELS, BASE, is_problem, key_headers
from webapp.extensions import db
from webapp.models import AuditEvent, Customer

URL = f"{BASE}/customers/upsert"


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_access_levels(client, business, access):
    r = client.post(
        URL, json={"name": "Ana Lopez", "email": "ana@example.com"}, headers=key_headers(business, access)
    )
    if access == "read":
        is_problem(r, 403)
        assert count() == 0
    else:
        assert r.status_code == 201, r.get_json()


def test_no_key_is_401_and_writes_nothing(client):
    is_problem(client.post(URL, json={"name": "Ana", "email": "ana@example.com"}), 401)
    assert count() == 0


def test_creates_then_finds_by_normalized_email(client, business):
    h = key_headers(business, "desk")
    r = client.post(
        URL, json={"name": "Ana Maria Lopez", "email": "Ana@Example.com", "company_name": "Acme"}, headers=h
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["customer"]["source"] == "api"
    assert body["created"] is True and r.headers["Location"].endswith(body["customer"]["id"])
    assert body["customer"]["first_name"] == "Ana" and body["customer"]["last_name"] == "Maria Lopez"
    assert body["customer"]["company"] == "Acme" and r.headers["ETag"] == f'"{body["customer"]["version"]}"'
    r = client.post(URL, json={"email": "  ana@EXAMPLE.com ", "address": "1 Main St"}, headers=h)
    assert r.status_code == 200 and r.get_json()["created"] is False
    assert r.get_json()["customer"]["id"] == body["customer"]["id"]
    assert r.get_json()["customer"]["address"] == "1 Main St" and "Location" not in r.headers
    assert count() == 1


def test_finds_by_phone_in_any_national_form(client, business):
    h = key_headers(business, "desk")
    first = client.post(URL, json={"name": "Bo", "phone": "07400 123456"}, headers=h).get_json()
    r = client.post(URL, json={"phone": "+44 7400 123456", "email": "bo@example.com"}, headers=h)
    assert r.status_code == 200 and r.get_json()["customer"]["id"] == first["customer"]["id"]
    assert r.get_json()["customer"]["email"] == "bo@example.com"


def test_email_and_phone_of_two_customers_is_409_naming_both(client, business, make_customer):
    a = make_customer(email="a@example.com")
    b = make_customer(email="b@example.com", phone="+447400123999")
    r = client.post(
        URL, json={"email": "a@example.com", "phone": "+447400123999"}, headers=key_headers(business)
    )
    body = is_problem(r, 409)
    assert body["owners"] == {"email": str(a.id), "phone": str(b.id)}
    assert str(a.id) in body["errors"]["email"][0] and str(b.id) in body["errors"]["phone"][0]
    db.session.refresh(a)
    assert a.phone is None and count() == 2


def test_do_not_update_finds_without_changing(client, business, make_customer):
    c = make_customer(email="c@example.com", address="Old")
    version = c.version
    r = client.post(
        URL,
        json={"email": "c@example.com", "address": "New", "do_not_update": True},
        headers=key_headers(business),
    )
    assert r.status_code == 200 and r.get_json()["customer"]["address"] == "Old"
    db.session.refresh(c)
    assert c.address == "Old" and c.version == version


def test_tags_replace_and_added_tags_add(client, business, make_customer, make_tag):
    c = make_customer(email="t@example.com", tags=[make_tag("VIP")])
    h = key_headers(business)
    r = client.post(URL, json={"email": "t@example.com", "added_tags": ["Regular"]}, headers=h)
    assert sorted(r.get_json()["customer"]["tags"]) == ["Regular", "VIP"]
    r = client.post(URL, json={"email": "t@example.com", "tags": ["New"], "added_tags": ["Extra"]}, headers=h)
    assert sorted(r.get_json()["customer"]["tags"]) == ["Extra", "New"]
    r = client.post(URL, json={"email": "t@example.com", "tags": []}, headers=h)
    assert r.get_json()["customer"]["tags"] == []
    assert r.get_json()["customer"]["id"] == str(c.id)


def test_location_id_links_a_location(client, business, location):
    r = client.post(
        URL,
        json={"name": "Lo", "email": "lo@example.com", "location_id": location.id},
        headers=key_headers(business),
    )
    assert r.status_code == 201 and r.get_json()["customer"]["location_ids"] == [location.id]


def test_another_business_customer_is_not_found(client, business, make_business, make_customer):
    theirs = make_customer(business_=make_business("Elsewhere"), email="x@example.com")
    r = client.post(URL, json={"name": "X", "email": "x@example.com"}, headers=key_headers(business))
    assert r.status_code == 201 and r.get_json()["customer"]["id"] != str(theirs.id)


def test_the_write_is_audited_with_the_key(client, business):
    r = client.post(
        URL, json={"name": "Au", "email": "au@example.com"}, headers=key_headers(business, name="CRM sync")
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.created"))
    assert event.actor_label.endswith("CRM sync") and str(event.customer_id) == r.get_json()["customer"]["id"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "No contact"}, "email"),
        ({"name": "Bad", "email": "not an email"}, "email"),
        ({"name": "Bad", "phone": "12"}, "phone"),
        ({"name": ["a"], "email": "z@example.com"}, "name"),
        ({"name": "Nul\x00", "email": "z@example.com"}, "name"),
        ({"name": "Z", "email": "z@example.com", "do_not_update": "yes"}, "do_not_update"),
        ({"name": "Z", "email": "z@example.com", "added_tags": "one"}, "added_tags"),
        ({"name": "Z", "email": "z@example.com", "location_id": 1e400}, "location_id"),
        ({"name": "Z", "email": "z@example.com", "location_id": 999999}, "location_ids"),
        ({"name": "Z", "email": "z@example.com", "notes": "x" * 2_000_000}, "notes"),
        ([], "body"),
        ("null", "body"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(client, business, body, field):
    raw = body if isinstance(body, str) else None
    h = key_headers(business)
    r = (
        client.post(URL, data=raw, content_type="application/json", headers=h)
        if raw
        else client.post(URL, json=body, headers=h)
    )
    is_problem(r, 422, field)
    assert count() == 0


def test_malformed_json_and_wrong_type(client, business):
    h = key_headers(business)
    is_problem(client.post(URL, data="{", content_type="application/json", headers=h), 400)
    is_problem(
        client.post(URL, data="name=x", content_type="application/x-www-form-urlencoded", headers=h), 415
    )
    assert count() == 0


def test_idempotency_key_replays(client, business):
    h = {**key_headers(business), "Idempotency-Key": "k1"}
    first = client.post(URL, json={"name": "Id", "email": "id@example.com"}, headers=h)
    again = client.post(URL, json={"name": "Id", "email": "id@example.com"}, headers=h)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert count() == 1
