"""The API's conventions: bad input as problem+json naming the field (nothing written), ETag and If-Match,
Idempotency-Key (replay and concurrency), limits per key, 404/405/415 under /api/, the OpenAPI document."""

import json
import threading
import time

import pytest
from sqlalchemy import func, select

from api_support import BASE, is_problem, key_headers
from webapp.api import schemas
from webapp.api.registry import OPERATIONS
from webapp.extensions import db
from webapp.models import Customer, IdempotencyRecord

NEW = {"first_name": "Ann", "email": "ann@example.com"}


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def raw_post(client, headers, data: bytes | str, content_type="application/json"):
    return client.post(f"{BASE}/customers", data=data, headers={**headers, "Content-Type": content_type})


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"", 400, None),
        (b"\xff\xfe", 400, None),
        (b"[1, 2]", 422, "body"),
        (b'"a string"', 422, "body"),
        (b"null", 422, "body"),
        (b'{"first_name": ["Ann"], "email": "a@example.com"}', 422, "first_name"),
        (b'{"first_name": {"x": 1}, "email": "a@example.com"}', 422, "first_name"),
        (b'{"first_name": 12, "email": "a@example.com"}', 422, "first_name"),
        (b'{"first_name": "A\\u0000nn", "email": "a@example.com"}', 422, "first_name"),
        (b'{"first_name": "Ann", "email": "a@example.com", "notes": 1e400}', 422, "notes"),
        (b'{"first_name": "Ann", "email": "a@example.com", "dob": "0000-00-00"}', 422, "dob"),
        (
            b'{"first_name": "Ann", "email": "a@example.com", "date_of_birth": "2999-01-01"}',
            422,
            "date_of_birth",
        ),
        (b'{"first_name": "Ann", "email": "a@example.com", "tags": "VIP"}', 422, "tags"),
        (b'{"first_name": "Ann", "email": "a@example.com", "location_ids": ["1"]}', 422, "location_ids.0"),
        (b'{"first_name": "Ann", "email": "a@example.com", "source": "martians"}', 422, "source"),
        (
            b'{"first_name": "Ann", "email": "a@example.com", "marketing_preferences": {"1": "yes"}}',
            422,
            "marketing_preferences.1",
        ),
    ],
)
def test_bad_bodies_are_problems_naming_the_field(client, business, body, status, field):
    problem = is_problem(raw_post(client, key_headers(business), body), status, field)
    assert "Traceback" not in json.dumps(problem)
    assert count() == 0


def test_a_two_megabyte_note_is_refused_on_its_field(client, business):
    body = json.dumps({**NEW, "notes": "x" * 2_000_000})
    is_problem(raw_post(client, key_headers(business), body), 422, "notes")
    assert count() == 0


def test_wrong_content_type_is_415(client, business):
    is_problem(raw_post(client, key_headers(business), json.dumps(NEW), "text/plain"), 415)
    is_problem(client.post(f"{BASE}/customers", data=NEW, headers=key_headers(business)), 415)
    assert count() == 0


def test_answers_are_not_cached_and_401_names_the_scheme(client, business):
    assert (
        client.get(f"{BASE}/customers", headers=key_headers(business)).headers["Cache-Control"] == "no-store"
    )
    assert client.get(f"{BASE}/customers").headers["WWW-Authenticate"].startswith("Bearer")


def test_the_birthday_alias(client, business):
    r = client.post(
        f"{BASE}/customers", json={**NEW, "birthday": "1980-02-29"}, headers=key_headers(business)
    )
    assert r.status_code == 201 and r.get_json()["date_of_birth"] == "1980-02-29"


def test_unknown_fields_are_ignored(client, business):
    r = client.post(
        f"{BASE}/customers", json={**NEW, "favourite_colour": "red"}, headers=key_headers(business)
    )
    assert r.status_code == 201 and "favourite_colour" not in r.get_json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1000000", "limit"),
        ("limit=abc", "limit"),
        ("page=0", "page"),
        ("page=1e400", "page"),
        ("dob_month=13", "dob_month.0"),
        ("created_date_from=0000-00-00", "created_date_from"),
        ("created_date=2999-01-01", "created_date"),
        ("associated_venues=x", "associated_venues.0"),
        ("opted_in_date=2020-01-01", "opted_in_date"),
        ("opted_out_date_from=2020-01-01", "opted_out_date_from"),
    ],
)
def test_bad_queries_are_problems_naming_the_argument(client, business, query, field):
    is_problem(client.get(f"{BASE}/customers?{query}", headers=key_headers(business, "read")), 422, field)


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("calendar/customers", "q=ann&limit=0", "limit"),
        ("calendar/customers", "q=ann&limit=51", "limit"),
        ("calendar/customers", "q=ann&page=0", "page"),
        ("calendar/customers", "q=" + "a" * 101, "q"),
        ("calendar/customers", "q=ann&sort=password", "sort"),
        ("customers/{id}/stats", "limit=0", "limit"),
        ("customers/{id}/stats", "limit=201", "limit"),
        ("customers/{id}/stats", "page=abc", "page"),
        ("customers/{id}/stats", "status=lost", "status"),
    ],
)
def test_the_calendar_and_stats_queries_are_checked_by_their_schemas(
    client, business, make_customer, path, query, field
):
    path = path.format(id=make_customer().id)
    is_problem(client.get(f"{BASE}/{path}?{query}", headers=key_headers(business, "read")), 422, field)


def test_every_operation_answers_a_documented_model(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            ok = [s for s in op["responses"] if s.startswith("2")]
            for status in ok:
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema["$ref"].startswith("#/components/schemas/"), (method, path, status)
    calendar = doc["paths"][f"{BASE}/calendar/customers"]["get"]
    assert {p["name"] for p in calendar["parameters"]} >= {"q", "page", "limit", "sort"}


def test_an_unknown_sort_is_422(client, business):
    is_problem(
        client.get(f"{BASE}/customers?sort=-password", headers=key_headers(business, "read")), 422, "sort"
    )


def test_a_nul_in_the_query_string_is_400(client, business):
    is_problem(client.get(f"{BASE}/customers?query=a%00b", headers=key_headers(business, "read")), 400)


def test_unknown_paths_and_methods_are_problems_never_html(client, business):
    headers = key_headers(business)
    is_problem(client.get(f"{BASE}/nothing-here", headers=headers), 404)
    is_problem(client.get("/api/v2/anything"), 404)
    r = is_problem(client.open(f"{BASE}/customers", method="DELETE", headers=headers), 405)
    assert r["code"] == "method_not_allowed"
    is_problem(client.get(f"{BASE}/customers/not-a-uuid", headers=headers), 404)


def test_an_unexpected_error_is_a_problem_500(app, client, business, monkeypatch):
    from webapp.api import customers

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(customers, "search_customers", boom)
    app.config["SHOW_ERROR_PAGES"] = True
    try:
        body = is_problem(client.get(f"{BASE}/customers", headers=key_headers(business)), 500)
    finally:
        app.config["SHOW_ERROR_PAGES"] = False
    assert "boom" not in json.dumps(body)


# --- ETag and If-Match ------------------------------------------------------------------------------


def test_etag_and_if_match(client, business, make_customer):
    customer = make_customer()
    headers = key_headers(business)
    url = f"{BASE}/customers/{customer.id}"
    tag = client.get(url, headers=headers).headers["ETag"]
    assert tag == f'"{customer.version}"'
    r = client.patch(url, json={"notes": "one"}, headers={**headers, "If-Match": tag})
    assert r.status_code == 200 and r.headers["ETag"] != tag
    stale = client.patch(url, json={"notes": "two"}, headers={**headers, "If-Match": tag})
    is_problem(stale, 412)
    assert stale.headers["ETag"] == r.headers["ETag"]
    is_problem(client.delete(url, headers={**headers, "If-Match": tag}), 412)
    db.session.refresh(customer)
    assert customer.notes == "one"  # nothing written by the stale requests
    assert client.put(url, json={"notes": "three"}, headers={**headers, "If-Match": "*"}).status_code == 200
    assert (
        client.delete(
            url, headers={**headers, "If-Match": f"W/{client.get(url, headers=headers).headers['ETag']}"}
        ).status_code
        == 200
    )


# --- Idempotency-Key --------------------------------------------------------------------------------


def test_idempotency_replays_the_first_answer(client, business):
    headers = {**key_headers(business), "Idempotency-Key": "create-ann-1"}
    first = client.post(f"{BASE}/customers", json=NEW, headers=headers)
    again = client.post(f"{BASE}/customers", json=NEW, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and count() == 1
    other = client.post(f"{BASE}/customers", json={**NEW, "first_name": "Bea"}, headers=headers)
    is_problem(other, 422, "Idempotency-Key")
    assert count() == 1


def test_idempotency_records_expire_after_a_day(client, business):
    from datetime import timedelta

    from webapp.database import utcnow

    headers = {**key_headers(business), "Idempotency-Key": "old"}
    first = client.post(f"{BASE}/customers", json=NEW, headers=headers)
    record = db.session.scalar(select(IdempotencyRecord))
    record.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    again = client.post(f"{BASE}/customers", json={**NEW, "email": "new@example.com"}, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] != first.get_json()["id"]
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_idempotency_keys_are_per_key_and_a_failure_frees_the_key(client, business):
    one, two = key_headers(business), key_headers(business)
    bad = client.post(f"{BASE}/customers", json={"first_name": "X"}, headers={**one, "Idempotency-Key": "k"})
    is_problem(bad, 422)
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    assert (
        client.post(f"{BASE}/customers", json=NEW, headers={**one, "Idempotency-Key": "k"}).status_code == 201
    )
    r = client.post(
        f"{BASE}/customers", json={**NEW, "email": "b@example.com"}, headers={**two, "Idempotency-Key": "k"}
    )
    assert r.status_code == 201 and count() == 2
    is_problem(
        client.post(f"{BASE}/customers", json=NEW, headers={**one, "Idempotency-Key": "x" * 300}),
        422,
        "Idempotency-Key",
    )


def test_two_concurrent_requests_with_one_key_do_the_work_once(app, business, monkeypatch):
    from webapp.api import customers

    real = customers.services.create_customer

    def slow(*args, **kwargs):
        made = real(*args, **kwargs)
        time.sleep(0.3)  # hold the transaction open while the other request arrives
        return made

    monkeypatch.setattr(customers.services, "create_customer", slow)
    headers = {**key_headers(business), "Idempotency-Key": "same"}
    barrier, answers = threading.Barrier(2), []

    def send():
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            r = client.post(f"{BASE}/customers", json=NEW, headers=headers)
            answers.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a[0] for a in answers] == [201, 201], answers
    assert answers[0][1]["id"] == answers[1][1]["id"]
    assert count() == 1


# --- limits -----------------------------------------------------------------------------------------


def test_limits_per_key_with_ratelimit_headers(app, client, business):
    one, two = key_headers(business, "read"), key_headers(business, "read")
    app.config["API_RATE_LIMIT"] = "2/minute"
    try:
        r = client.get(f"{BASE}/customers", headers=one)
        assert r.headers["RateLimit-Limit"] == "2" and r.headers["RateLimit-Remaining"] == "1"
        client.get(f"{BASE}/customers", headers=one)
        limited = client.get(f"{BASE}/customers", headers=one)
        is_problem(limited, 429)
        assert int(limited.headers["Retry-After"]) > 0
        assert client.get(f"{BASE}/customers", headers=two).status_code == 200  # another key's own limit
    finally:
        app.config["API_RATE_LIMIT"] = "600/minute"


# --- the OpenAPI document ---------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_public(client):
    from openapi_spec_validator import validate

    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc = r.get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_api_route_is_documented(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    import re

    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/merchant"):
            continue
        path = re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)
    assert len(documented) == len(OPERATIONS)


def test_the_documented_schemas_are_the_validation_models(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    write = doc["components"]["schemas"]["CustomerWrite"]
    assert write["properties"].keys() == schemas.CustomerWrite.model_json_schema()["properties"].keys()
    create = doc["paths"][f"{BASE}/customers"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CustomerWrite")
    listed = {p["name"] for p in doc["paths"][f"{BASE}/customers"]["get"]["parameters"]}
    assert set(schemas.CustomerQuery.model_fields) <= listed


def test_the_reference_page_renders_from_the_document(client):
    r = client.get("/api/docs")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "POST /api/v1/merchant/customers" in html and "CustomerWrite" in html
    assert "<script>" not in html
