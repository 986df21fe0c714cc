"""The customer endpoints: every endpoint × access level × another business × no key, and what they do."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api_support import ACCESS_LEVELS, BASE, is_problem, key_headers
from webapp.extensions import db
from webapp.models import Booking, Customer, CustomerConsent, Location, MarketingPreference, Tag

WRITE = {"POST", "PUT", "PATCH", "DELETE"}


def endpoints(cid) -> list[tuple[str, str, dict | None]]:
    """(method, url, body) of every customer endpoint, for one customer id."""
    return [
        ("GET", f"{BASE}/customers", None),
        ("POST", f"{BASE}/customers", {"first_name": "New", "email": f"{uuid.uuid4().hex[:8]}@example.com"}),
        ("GET", f"{BASE}/customers/{cid}", None),
        ("PUT", f"{BASE}/customers/{cid}", {"notes": "put"}),
        ("PATCH", f"{BASE}/customers/{cid}", {"notes": "patch"}),
        ("GET", f"{BASE}/customers/{cid}/stats", None),
        ("DELETE", f"{BASE}/customers/{cid}", None),
    ]


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_every_endpoint_at_every_access_level(client, business, make_customer, access):
    headers = key_headers(business, access)
    for method, url, body in endpoints(make_customer().id):
        r = client.open(url, method=method, json=body, headers=headers)
        if access == "read" and method in WRITE:
            is_problem(r, 403)
        else:
            assert r.status_code in (200, 201), (access, method, url, r.get_data(as_text=True)[:300])


def test_every_endpoint_refuses_another_business_and_no_key(client, business, make_business, make_customer):
    theirs = make_customer(business_=make_business("Elsewhere"))
    mine = key_headers(business, "manager")
    for method, url, body in endpoints(theirs.id):
        if url.endswith("/customers"):
            continue  # the collection is every business's own
        is_problem(client.open(url, method=method, json=body, headers=mine), 404)
    for method, url, body in endpoints(theirs.id):
        is_problem(client.open(url, method=method, json=body), 401)
    db.session.refresh(theirs)
    assert theirs.notes == "" and db.session.get(Customer, theirs.id) is not None


def test_the_collection_holds_only_the_keys_business(client, business, make_business, make_customer):
    make_customer(first_name="Mine")
    make_customer(business_=make_business("Elsewhere"), first_name="Theirs")
    body = client.get(f"{BASE}/customers", headers=key_headers(business, "read")).get_json()
    assert [c["first_name"] for c in body["data"]] == ["Mine"]


def test_a_signed_in_session_works_with_its_role(login_as, make_customer):
    desk = login_as("receptionist")
    customer = make_customer()
    assert desk.get(f"{BASE}/customers/{customer.id}").status_code == 200
    r = desk.patch(f"{BASE}/customers/{customer.id}", json={"notes": "from the desk"})
    assert r.status_code == 200 and r.get_json()["notes"] == "from the desk"


def test_session_writes_need_the_csrf_header(app, login_as, make_customer):
    desk = login_as("receptionist")
    customer = make_customer()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert is_problem(desk.patch(f"{BASE}/customers/{customer.id}", json={"notes": "x"}), 400)[
            "code"
        ] == ("csrf_failed")
        page = desk.get("/customers")
        token = page.get_data(as_text=True).split('{"X-CSRFToken": "')[1].split('"')[0]  # what htmx sends
        r = desk.patch(f"{BASE}/customers/{customer.id}", json={"notes": "x"}, headers={"X-CSRFToken": token})
        assert r.status_code == 200, r.get_data(as_text=True)
        key = key_headers(customer_business(customer))  # a key needs no CSRF token
        assert (
            desk.patch(f"{BASE}/customers/{customer.id}", json={"notes": "y"}, headers=key).status_code == 200
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def customer_business(customer):
    """The customer's business."""
    from webapp.models import Business

    return db.session.get(Business, customer.business_id)


def test_create_with_the_source_apis_aliases(client, business, location):
    headers = key_headers(business, "desk")
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(pref)
    db.session.commit()
    body = {
        "name": "Jane van Doe",
        "email": "jane@example.com",
        "phone": "07911 123456",
        "dob": "1990-03-04",
        "company_name": "Acme",
        "labels": ["VIP", "Regular Customer"],
        "associated_venues": [location.id],
        "marketing_preference_ids": [pref.id],
    }
    r = client.post(f"{BASE}/customers", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert r.headers["Location"] == f"{BASE}/customers/{c['id']}" and r.headers["ETag"] == f'"{c["version"]}"'
    assert (c["first_name"], c["last_name"], c["company"]) == ("Jane", "van Doe", "Acme")
    assert c["phone"] == "+447911123456" and c["date_of_birth"] == "1990-03-04"
    assert c["tags"] == ["Regular Customer", "VIP"] and c["location_ids"] == [location.id]
    assert c["marketing_preferences"] == {str(pref.id): True}
    assert c["source"] == "api"  # brought in by an integration, unless the body names a source
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 2  # unknown labels created
    again = client.post(f"{BASE}/customers", json={**body, "labels": ["vip"]}, headers=headers)
    assert again.status_code == 409  # the email is taken
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 2


def test_a_source_given_is_kept(client, business):
    r = client.post(
        f"{BASE}/customers",
        json={"first_name": "Ann", "email": "ann@example.com", "source": "online"},
        headers=key_headers(business, "desk"),
    )
    assert r.status_code == 201 and r.get_json()["source"] == "online"


def test_a_taken_contact_is_409_naming_its_owner(client, business, make_customer):
    owner = make_customer(email="taken@example.com")
    r = client.post(
        f"{BASE}/customers",
        json={"first_name": "X", "email": "TAKEN@example.com"},
        headers=key_headers(business),
    )
    body = is_problem(r, 409, "email")
    assert body["code"] == "contact_taken" and body["owners"] == {"email": str(owner.id)}


def test_the_services_rules_answer_422_by_field(client, business):
    headers = key_headers(business)
    body = is_problem(client.post(f"{BASE}/customers", json={"last_name": "Only"}, headers=headers), 422)
    assert {"first_name", "email"} <= set(body["errors"])
    is_problem(
        client.post(f"{BASE}/customers", json={"first_name": "A", "email": "nope"}, headers=headers),
        422,
        "email",
    )
    is_problem(
        client.post(f"{BASE}/customers", json={"first_name": "A", "phone": "12"}, headers=headers),
        422,
        "phone",
    )
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_update_replaces_tags_whole_and_keeps_other_fields(client, business, make_customer):
    vip = Tag(business_id=business.id, name="VIP")
    db.session.add(vip)
    db.session.commit()
    customer = make_customer(tags=[vip], notes="keep me")
    headers = key_headers(business)
    r = client.put(f"{BASE}/customers/{customer.id}", json={"tags": ["New"]}, headers=headers)
    assert r.status_code == 200 and r.get_json()["tags"] == ["New"] and r.get_json()["notes"] == "keep me"
    r = client.patch(f"{BASE}/customers/{customer.id}", json={"labels": []}, headers=headers)
    assert r.get_json()["tags"] == []


def test_a_body_id_must_be_the_paths(client, business, make_customer):
    customer = make_customer()
    r = client.put(
        f"{BASE}/customers/{customer.id}",
        json={"id": str(uuid.uuid4()), "notes": "x"},
        headers=key_headers(business),
    )
    is_problem(r, 422, "id")
    db.session.refresh(customer)
    assert customer.notes == ""
    same = client.put(
        f"{BASE}/customers/{customer.id}",
        json={"id": str(customer.id), "notes": "x"},
        headers=key_headers(business),
    )
    assert same.status_code == 200


def test_delete_removes_or_anonymizes(client, business, make_customer, location):
    headers = key_headers(business, "desk")
    plain = make_customer().id
    r = client.delete(f"{BASE}/customers/{plain}", headers=headers)
    assert r.get_json() == {"id": str(plain), "result": "deleted"}
    assert db.session.scalar(select(func.count()).where(Customer.id == plain)) == 0
    booked = make_customer()
    start = datetime.now(UTC) - timedelta(days=3)
    db.session.add(
        Booking(
            business_id=business.id,
            customer_id=booked.id,
            location_id=location.id,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            status="completed",
        )
    )
    db.session.commit()
    r = client.delete(f"{BASE}/customers/{booked.id}", headers=headers)
    assert r.get_json()["result"] == "anonymized"
    db.session.refresh(booked)
    assert booked.anonymized_at is not None and booked.email is None
    is_problem(client.delete(f"{BASE}/customers/{plain}", headers=headers), 404)


def test_list_pagination_envelope_and_sort(client, business, make_customer):
    for name in ("Cara", "Abe", "Bea"):
        make_customer(first_name=name)
    headers = key_headers(business, "read")
    body = client.get(f"{BASE}/customers?limit=2&sort=name", headers=headers).get_json()
    assert [c["first_name"] for c in body["data"]] == ["Abe", "Bea"]
    assert body["pagination"] == {"page": 1, "limit": 2, "total": 3, "total_exact": True, "has_more": True}
    body = client.get(f"{BASE}/customers?limit=2&page=2&sort=-created_date", headers=headers).get_json()
    assert [c["first_name"] for c in body["data"]] == ["Cara"] and body["pagination"]["has_more"] is False
    found = client.get(f"{BASE}/customers?search=bea", headers=headers).get_json()["data"]
    assert [c["first_name"] for c in found] == ["Bea"]
    assert client.get(f"{BASE}/customers?q=bea", headers=headers).get_json()["data"] == found


def test_list_filters_of_the_restaurant_api(client, business, make_customer, location):
    vip = Tag(business_id=business.id, name="VIP")
    pref = MarketingPreference(business_id=business.id, name="SMS")
    db.session.add_all([vip, pref])
    db.session.commit()
    ann = make_customer(
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
        tags=[vip],
        date_of_birth=datetime(1990, 5, 1).date(),
    )
    bob = make_customer(first_name="Bob", email="bob@example.com")
    db.session.execute(Location.__table__.select())  # noqa: B018  (the location exists)
    from webapp.models import customer_location

    db.session.execute(
        customer_location.insert(),
        [{"business_id": business.id, "customer_id": bob.id, "location_id": location.id}],
    )
    db.session.add(
        CustomerConsent(customer_id=ann.id, preference_id=pref.id, business_id=business.id, opted_in=True)
    )
    db.session.add(
        CustomerConsent(customer_id=bob.id, preference_id=pref.id, business_id=business.id, opted_in=False)
    )
    start = datetime(2026, 3, 10, 12, tzinfo=UTC)
    db.session.add(
        Booking(
            business_id=business.id,
            customer_id=bob.id,
            location_id=location.id,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            status="completed",
        )
    )
    db.session.commit()
    headers = key_headers(business, "read")
    today = datetime.now(UTC).date().isoformat()

    def names(qs):
        r = client.get(f"{BASE}/customers?{qs}", headers=headers)
        assert r.status_code == 200, r.get_json()
        return sorted(c["first_name"] for c in r.get_json()["data"])

    assert names("labels=VIP") == ["Ann"] and names("labels=nobody") == []
    assert names(f"associated_venues={location.id}") == ["Bob"]
    assert names("dob_month=5") == ["Ann"] and names("dob_month=1,6") == []
    assert names("email=BOB@example.com") == ["Bob"] and names("email=ann@example.com,bob@example.com") == [
        "Ann",
        "Bob",
    ]
    assert names("full_name=ann lee") == ["Ann"]
    assert names(f"opted_in={pref.id}") == ["Ann"] and names(f"opted_out={pref.id}") == ["Bob"]
    assert names(f"opted_in={pref.id}&opted_in_date_from=2000-01-01&opted_in_date_to={today}") == ["Ann"]
    assert names(f"opted_in={pref.id}&opted_in_date_to=2000-01-01") == []
    assert names("booking_date=2026-03-10") == ["Bob"] and names("booking_date_from=2026-03-11") == []
    assert names(f"created_date={today}") == ["Ann", "Bob"]
    assert names("created_date_to=2000-01-01") == [] and names(f"last_updated_from={today}") == ["Ann", "Bob"]
    assert names("query=@example.com") == ["Ann", "Bob"]


def test_a_page_costs_the_same_queries_whatever_its_size(client, business, make_customer, count_queries):
    vip = Tag(business_id=business.id, name="VIP")
    db.session.add(vip)
    db.session.commit()
    for i in range(12):
        make_customer(first_name=f"C{i:02}", tags=[vip])
    headers = key_headers(business, "read")
    client.get(f"{BASE}/customers?limit=1", headers=headers)  # warm up (and last_used_at written)
    with count_queries() as small:
        client.get(f"{BASE}/customers?limit=1", headers=headers)
    with count_queries() as big:
        body = client.get(f"{BASE}/customers?limit=12", headers=headers).get_json()
    assert len(body["data"]) == 12 and all(c["tags"] == ["VIP"] for c in body["data"])
    assert small.count == big.count <= 6, big.statements  # key, page (with its count), rows, links


def test_a_listed_customer_reads_as_it_does_alone(client, business, make_customer, location):
    """The list draws its page from rows (API_COLUMNS), one customer from its record: the same answer."""
    other = Location(business_id=business.id, name="Annex")
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    vip, allergy = Tag(business_id=business.id, name="VIP"), Tag(business_id=business.id, name="Allergy")
    db.session.add_all([other, pref, vip, allergy])
    db.session.commit()
    headers = key_headers(business, "desk")
    made = client.post(
        f"{BASE}/customers",
        json={
            "name": "Ann Lee",
            "email": "ann@example.com",
            "company": "Acme",
            "address": "1 High St",
            "notes": "Latex allergy",
            "dob": "1990-01-02",
            "tags": ["VIP", "Allergy"],
            "location_ids": [other.id, location.id],
            "marketing_preferences": {str(pref.id): False},
        },
        headers=headers,
    ).get_json()
    client.put(
        f"{BASE}/customers/{made['id']}/blacklist",
        json={"reason": "Rude", "level": "warn"},
        headers=key_headers(business, "manager"),
    )
    alone = client.get(f"{BASE}/customers/{made['id']}", headers=headers).get_json()
    [listed] = client.get(f"{BASE}/customers?query=ann", headers=headers).get_json()["data"]
    assert listed == alone
    assert alone["tags"] == ["Allergy", "VIP"] and alone["marketing_preferences"] == {str(pref.id): False}
    assert alone["blacklist_level"] == "warn" and alone["blacklist_reason"] == "Rude"


def test_authenticating_a_key_is_one_query(client, business, make_customer, count_queries):
    customer = make_customer()
    headers = key_headers(business, "read")
    client.get(f"{BASE}/customers/{customer.id}", headers=headers)
    with count_queries() as q:
        client.get(f"{BASE}/customers/{customer.id}", headers=headers)
    key_lookups = [s for s in q.statements if "FROM api_key" in s]
    assert len(key_lookups) == 1 and "WHERE api_key.prefix" in key_lookups[0]
    assert not any(s.lstrip().upper().startswith("UPDATE API_KEY") for s in q.statements)


def test_reading_one_customer_is_four_statements(
    client, business, location, make_customer, make_tag, count_queries
):
    """The key, the customer (a 404 otherwise), its row as a list reads it, and one statement for its
    locations, consents and cards, however many it has."""
    customer = make_customer(tags=[make_tag("VIP"), make_tag("Allergy")])
    url, version = f"{BASE}/customers/{customer.id}", customer.version
    headers = key_headers(business, "read")
    client.get(url, headers=headers)
    with count_queries() as q:
        r = client.get(url, headers=headers)
    assert r.status_code == 200 and r.get_json()["tags"] == ["Allergy", "VIP"]
    assert r.headers["ETag"] == f'"{version}"'
    assert q.count == 4, [s[:60] + " … " + s[s.find("FROM") : s.find("FROM") + 40] for s in q.statements]
