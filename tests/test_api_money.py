"""POST /sales, GET /customers/{id}/sales, GET /customers/{id}/ledger, POST /customers/{id}/loyalty/redeem:
access levels, what they do through the money services, bad input (422 on its field, nothing written)."""

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api_support import ACCESS_LEVELS, BASE, is_problem, key_headers
from webapp.extensions import db
from webapp.models import AuditEvent, Customer, IdempotencyRecord, LedgerEntry, PointsTransaction, Sale
from webapp.money.ledger import record_payment
from webapp.money.sales import record_sale, reverse_sale

SALE_FIELDS = {
    "id",
    "customer_id",
    "receipt_number",
    "total",
    "on_account",
    "booking_id",
    "points_earned",
    "status",
    "created_at",
}
ENTRY_FIELDS = {"id", "type", "amount", "balance_after", "description", "reference_id", "created_at"}


def sales_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Sale))


def fresh(customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def sell(client, headers, customer, total=1250, **fields):
    return client.post(
        f"{BASE}/sales", json={"customer_id": str(customer.id), "total": total, **fields}, headers=headers
    )


def with_points(customer, points_from_total=5000) -> Customer:
    """The customer after a sale that earned them points (50 at the default rate of 1 a pound)."""
    record_sale(customer, total=points_from_total, actor=None)
    db.session.commit()
    return fresh(customer)


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_every_endpoint_at_every_access_level(client, business, make_customer, access):
    c = with_points(make_customer())
    h = key_headers(business, access)
    reads = [
        client.get(f"{BASE}/customers/{c.id}/sales", headers=h),
        client.get(f"{BASE}/customers/{c.id}/ledger", headers=h),
    ]
    writes = [
        sell(client, h, c),
        client.post(f"{BASE}/customers/{c.id}/loyalty/redeem", json={"points": 1}, headers=h),
    ]
    assert all(r.status_code == 200 for r in reads), [r.get_json() for r in reads]
    if access == "read":
        for r in writes:
            is_problem(r, 403)
        assert sales_count() == 1
    else:
        assert [r.status_code for r in writes] == [201, 200], [r.get_json() for r in writes]


def test_no_key_is_401_and_another_business_customer_is_404(client, business, make_business, make_customer):
    other = make_business("Elsewhere")
    theirs = with_points(make_customer(business_=other))
    h = key_headers(business, "desk")
    is_problem(sell(client, h, theirs), 404)
    is_problem(sell(client, None, make_customer()), 401)
    for url in (f"{BASE}/customers/{theirs.id}/sales", f"{BASE}/customers/{theirs.id}/ledger"):
        is_problem(client.get(url, headers=h), 404)
        is_problem(client.get(url), 401)
    is_problem(
        client.post(f"{BASE}/customers/{theirs.id}/loyalty/redeem", json={"points": 1}, headers=h), 404
    )
    is_problem(client.get(f"{BASE}/customers/{uuid.uuid4()}/sales", headers=h), 404)
    assert sales_count() == 1 and fresh(theirs).points_balance == 50


def test_a_sale_earns_points_and_is_counted_on_the_customer(client, business, make_customer):
    c = make_customer()
    h = key_headers(business, "desk", name="Till 1")
    r = sell(client, h, c, total=1299)
    sale = r.get_json()
    assert r.status_code == 201 and set(sale) == SALE_FIELDS, sale
    assert sale["customer_id"] == str(c.id) and sale["total"] == 1299 and sale["on_account"] is False
    assert sale["points_earned"] == 12 and sale["status"] == "completed" and sale["booking_id"] is None
    assert re.fullmatch(r"REC-\d{8}-\d{3}", sale["receipt_number"]), sale["receipt_number"]
    body = client.get(f"{BASE}/customers/{c.id}", headers=h).get_json()
    assert (body["total_spent"], body["total_orders"], body["loyalty_points"], body["ledger_balance"]) == (
        1299,
        1,
        12,
        0,
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sale.recorded"))
    assert event.actor_label == "API key Till 1" and event.actor_id is None and event.changes["total"] == 1299


def test_an_on_account_sale_debits_the_ledger(client, business, make_customer):
    c = make_customer()
    h = key_headers(business, "desk")
    sale = sell(client, h, c, total=5000, on_account=True, receipt_number="T-100").get_json()
    assert sale["receipt_number"] == "T-100" and sale["on_account"] is True
    ledger = client.get(f"{BASE}/customers/{c.id}/ledger", headers=h).get_json()
    [entry] = ledger["data"]
    assert set(entry) == ENTRY_FIELDS and ledger["balance"] == -5000
    assert (entry["type"], entry["amount"], entry["balance_after"]) == ("debit", 5000, -5000)
    assert entry["reference_id"] == sale["id"]
    assert ledger["pagination"] == {
        "page": 1,
        "limit": 100,
        "total": 1,
        "total_exact": True,
        "has_more": False,
    }
    listed = client.get(f"{BASE}/customers?query={c.first_name}", headers=h).get_json()["data"]
    assert listed[0]["ledger_balance"] == -5000 and listed[0]["total_orders"] == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"-5",
        b'"abc"',
        b"12.345",
        b"1e9999",
        b"99999999999999",
        b"0",
        b"12.5",
        b'"1250"',
        b"true",
        b"null",
        b"[1250]",
    ],
)
def test_bad_totals_are_422_on_total_and_write_nothing(client, business, make_customer, raw):
    c = make_customer()
    data = b'{"customer_id": "%s", "total": %s}' % (str(c.id).encode(), raw)
    r = client.post(
        f"{BASE}/sales",
        data=data,
        headers={**key_headers(business, "desk"), "Content-Type": "application/json"},
    )
    [message] = is_problem(r, 422, "total")["errors"]["total"]
    assert "total" in message or "amount" in message, message  # says what to send, not pydantic's words
    assert sales_count() == 0 and fresh(c).total_spent == 0


def test_a_missing_total_or_customer_and_bad_fields_name_their_field(client, business, make_customer):
    c = make_customer()
    h = key_headers(business, "desk")
    is_problem(client.post(f"{BASE}/sales", json={"customer_id": str(c.id)}, headers=h), 422, "total")
    is_problem(client.post(f"{BASE}/sales", json={"total": 100}, headers=h), 422, "customer_id")
    is_problem(
        client.post(f"{BASE}/sales", json={"customer_id": "nope", "total": 100}, headers=h),
        422,
        "customer_id",
    )
    is_problem(sell(client, h, c, on_account="yes"), 422, "on_account")
    is_problem(sell(client, h, c, receipt_number="R\u00001"), 422, "receipt_number")
    is_problem(sell(client, h, c, receipt_number="R" * 41), 422, "receipt_number")
    is_problem(sell(client, h, c, booking_id="x"), 422, "booking_id")
    assert sales_count() == 0


def test_a_receipt_number_already_used_is_422(client, business, make_customer):
    c = make_customer()
    h = key_headers(business, "desk")
    assert sell(client, h, c, receipt_number="R-1").status_code == 201
    problem = is_problem(sell(client, h, make_customer(), receipt_number="R-1"), 422, "receipt_number")
    assert "already used" in problem["errors"]["receipt_number"][0]
    assert sales_count() == 1


def test_a_sale_for_a_booking(client, business, make_business, make_customer, make_booking):
    c, other = make_customer(), make_customer()
    mine, theirs = make_booking(c, days=-1, status="completed"), make_booking(other, days=-1)
    elsewhere = make_booking(make_customer(business_=make_business("Elsewhere")), days=-1)
    h = key_headers(business, "desk")
    is_problem(sell(client, h, c, booking_id=str(theirs.id)), 422, "booking_id")
    is_problem(sell(client, h, c, booking_id=str(uuid.uuid4())), 422, "booking_id")
    is_problem(sell(client, h, c, booking_id=str(elsewhere.id)), 422, "booking_id")
    assert sales_count() == 0
    sale = sell(client, h, c, booking_id=str(mine.id)).get_json()
    assert sale["booking_id"] == str(mine.id)
    is_problem(sell(client, h, c, booking_id=str(mine.id)), 422, "booking_id")  # paid for once
    assert sales_count() == 1


def test_an_anonymized_customer_takes_no_sale(client, business, make_customer):
    c = make_customer(anonymized_at=datetime.now(UTC))
    is_problem(sell(client, key_headers(business, "desk"), c), 422, "total")
    assert sales_count() == 0


def test_a_replayed_idempotency_key_records_one_sale(client, business, make_customer):
    c = make_customer()
    h = {**key_headers(business, "desk"), "Idempotency-Key": "till-1-sale-42"}
    first, again = sell(client, h, c), sell(client, h, c)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert sales_count() == 1 and fresh(c).total_spent == 1250 and fresh(c).points_balance == 12
    is_problem(sell(client, h, c, total=999), 422, "Idempotency-Key")
    assert sales_count() == 1
    failed = sell(client, {**h, "Idempotency-Key": "bad"}, c, total=-5)
    is_problem(failed, 422, "total")
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_sales_list_newest_first_with_their_reversal(client, business, make_customer, make_user):
    c = make_customer()
    h = key_headers(business, "read")
    made = []
    for i in range(3):
        sale = record_sale(c, total=1000 + i, actor=None)
        sale.created_at = datetime.now(UTC) - timedelta(days=3 - i)
        made.append(sale)
        db.session.commit()
    reverse_sale(made[1], kind="refund", reason="Unhappy", actor=make_user("manager"))
    db.session.commit()
    page = client.get(f"{BASE}/customers/{c.id}/sales?limit=2", headers=h).get_json()
    assert [s["total"] for s in page["data"]] == [1002, 1001]
    assert [s["status"] for s in page["data"]] == ["completed", "refunded"]
    assert page["pagination"] == {"page": 1, "limit": 2, "total": 3, "total_exact": True, "has_more": True}
    rest = client.get(f"{BASE}/customers/{c.id}/sales?limit=2&page=2", headers=h).get_json()
    assert [s["total"] for s in rest["data"]] == [1000] and rest["pagination"]["has_more"] is False
    assert all(set(s) == SALE_FIELDS for s in page["data"] + rest["data"])
    for query, field in (("limit=0", "limit"), ("limit=101", "limit"), ("page=x", "page")):
        is_problem(client.get(f"{BASE}/customers/{c.id}/sales?{query}", headers=h), 422, field)


def test_the_ledger_oldest_first_in_a_range_of_days(client, business, make_customer):
    c = make_customer()
    days = [datetime(2026, 3, d, 12, tzinfo=UTC) for d in (1, 2, 3)]
    for i, when in enumerate(days):
        entry = record_payment(c, amount=100 * (i + 1), actor=None, reference=f"P{i}")
        entry.created_at = when
        db.session.commit()
    h = key_headers(business, "read")
    url = f"{BASE}/customers/{c.id}/ledger"
    whole = client.get(url, headers=h).get_json()
    assert [e["balance_after"] for e in whole["data"]] == [100, 300, 600] and whole["balance"] == 600
    assert {e["type"] for e in whole["data"]} == {"credit"} and whole["data"][0]["reference_id"] == "P0"
    middle = client.get(f"{url}?from=2026-03-02&to=2026-03-02", headers=h).get_json()
    assert [e["amount"] for e in middle["data"]] == [200]
    assert [e["amount"] for e in client.get(f"{url}?from=2026-03-02", headers=h).get_json()["data"]] == [
        200,
        300,
    ]
    assert [e["amount"] for e in client.get(f"{url}?to=2026-03-01", headers=h).get_json()["data"]] == [100]
    paged = client.get(f"{url}?limit=2&page=2", headers=h).get_json()
    assert [e["amount"] for e in paged["data"]] == [300] and paged["pagination"]["total"] == 3
    for query, field in (
        ("from=2026-03-03&to=2026-03-01", "to"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("limit=501", "limit"),
    ):
        is_problem(client.get(f"{url}?{query}", headers=h), 422, field)


def test_redeeming_points(client, business, make_customer):
    c = with_points(make_customer())  # 50 points
    h = key_headers(business, "desk", name="Till 2")
    r = client.post(f"{BASE}/customers/{c.id}/loyalty/redeem", json={"points": 20}, headers=h)
    assert r.status_code == 200 and r.get_json() == {
        "redeemed": 20,
        "discount_amount": 200,
        "remaining_points": 30,
    }
    assert fresh(c).points_balance == 30
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "points.redeemed"))
    assert event.actor_label == "API key Till 2" and event.changes["points"] == 20


@pytest.mark.parametrize("raw", [b"51", b"0", b"-1", b"1.5", b'"5"', b"null", b"1e9999", b"99999999999999"])
def test_bad_redemptions_are_422_on_points_and_write_nothing(client, business, make_customer, raw):
    c = with_points(make_customer())
    r = client.post(
        f"{BASE}/customers/{c.id}/loyalty/redeem",
        data=b'{"points": %s}' % raw,
        headers={**key_headers(business, "desk"), "Content-Type": "application/json"},
    )
    is_problem(r, 422, "points")
    assert fresh(c).points_balance == 50
    assert db.session.scalar(select(func.count()).where(PointsTransaction.kind == "redeem")) == 0


def test_a_redemption_against_a_sale(client, business, make_business, make_customer, make_user):
    c, other = with_points(make_customer()), with_points(make_customer())
    elsewhere = with_points(make_customer(business_=make_business("Elsewhere")))
    h = key_headers(business, "desk")
    url = f"{BASE}/customers/{c.id}/loyalty/redeem"
    own = db.session.scalar(select(Sale).where(Sale.customer_id == c.id))
    for sale_id in (
        db.session.scalar(select(Sale.id).where(Sale.customer_id == other.id)),  # another customer's: 422
        db.session.scalar(select(Sale.id).where(Sale.customer_id == elsewhere.id)),  # another business's
        uuid.uuid4(),
        "not-an-id",
    ):
        is_problem(client.post(url, json={"points": 5, "sale_id": str(sale_id)}, headers=h), 422, "sale_id")
    assert fresh(c).points_balance == 50
    r = client.post(url, json={"points": 5, "sale_id": str(own.id)}, headers=h)
    assert r.status_code == 200 and r.get_json()["remaining_points"] == 45
    row = db.session.scalar(select(PointsTransaction).where(PointsTransaction.kind == "redeem"))
    assert row.sale_id == own.id
    reverse_sale(own, kind="void", reason="Mistake", actor=make_user("manager"))
    db.session.commit()
    is_problem(client.post(url, json={"points": 1, "sale_id": str(own.id)}, headers=h), 422, "sale_id")


def test_redeeming_on_an_anonymized_customer_is_refused(client, business, make_customer):
    c = with_points(make_customer())
    c.anonymized_at = datetime.now(UTC)
    db.session.commit()
    r = client.post(
        f"{BASE}/customers/{c.id}/loyalty/redeem", json={"points": 1}, headers=key_headers(business, "desk")
    )
    is_problem(r, 422, "points")
    assert fresh(c).points_balance == 50


def test_a_session_records_a_sale_as_its_user(login_as, make_customer):
    staff = login_as("receptionist")
    c = make_customer()
    r = staff.post(f"{BASE}/sales", json={"customer_id": str(c.id), "total": 700})
    assert r.status_code == 201
    sale = db.session.get(Sale, uuid.UUID(r.get_json()["id"]))
    assert sale.created_by_id == staff.user.id
    ledger = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert ledger == 0


def test_the_money_operations_are_documented_with_their_models(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    expected = {
        ("post", f"{BASE}/sales"): ("SaleWrite", "Sale", "desk"),
        ("get", f"{BASE}/customers/{{customer_id}}/sales"): (None, "SaleList", "read"),
        ("get", f"{BASE}/customers/{{customer_id}}/ledger"): (None, "Ledger", "read"),
        ("post", f"{BASE}/customers/{{customer_id}}/loyalty/redeem"): ("Redeem", "Redemption", "desk"),
    }
    for (method, path), (body, response, access) in expected.items():
        op = paths[path][method]
        ok = next(s for s in op["responses"] if s.startswith("2"))
        assert op["responses"][ok]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{response}")
        assert op["x-access"] == access and "422" in op["responses"]
        if body:
            assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{body}")
    total = doc["components"]["schemas"]["SaleWrite"]["properties"]["total"]
    assert total["type"] == "integer" and total["minimum"] == 1 and total["maximum"] == 100_000_000
    ledger = {p["name"] for p in paths[f"{BASE}/customers/{{customer_id}}/ledger"]["get"]["parameters"]}
    assert {"from", "to", "page", "limit"} <= ledger


def test_two_tills_sending_one_sale_at_once_record_it_once(app, business, make_customer, monkeypatch):
    """The same Idempotency-Key at the same moment (a till retrying while the first is still running)."""
    from webapp.api import money

    real = money.sales.record_sale

    def slow(*args, **kwargs):
        made = real(*args, **kwargs)
        time.sleep(0.3)  # hold the transaction open while the other request arrives
        return made

    monkeypatch.setattr(money.sales, "record_sale", slow)
    c = make_customer()
    headers = {**key_headers(business, "desk"), "Idempotency-Key": "sale-once"}
    barrier, answers = threading.Barrier(2), []

    def send():
        with app.app_context():
            barrier.wait()
            r = app.test_client().post(
                f"{BASE}/sales", json={"customer_id": str(c.id), "total": 2000}, headers=headers
            )
            answers.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a[0] for a in answers] == [201, 201], answers
    assert answers[0][1]["id"] == answers[1][1]["id"]
    assert sales_count() == 1 and fresh(c).total_spent == 2000 and fresh(c).points_balance == 20
