"""The stamp-card endpoints (GET/POST /customers/{id}/cards, …/stamps, …/redeem), POST /customers' card_id
and send_card_links, and the cards in the customer representation (a list page without an N+1)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from api_support import ACCESS_LEVELS, BASE, is_problem, key_headers
from webapp.extensions import db
from webapp.loyalty.cards import enrol
from webapp.models import AuditEvent, CardProgram, CardStamp, Customer, CustomerCard, OutboxMessage

CARD_FIELDS = {
    "id",
    "program_id",
    "program",
    "code",
    "stamps",
    "stamps_needed",
    "rewards_available",
    "rewards_redeemed",
    "url",
}


@pytest.fixture
def make_program(business):
    """A stamp-card program row (3 stamps for a free blow-dry, 1 welcome stamp unless told)."""

    def make(business_=None, **fields):
        values = dict(name="Blow-dry card", stamps_required=3, reward="Free blow-dry", welcome_stamps=1)
        values.update(fields)
        program = CardProgram(business_id=(business_ or business).id, **values)
        db.session.add(program)
        db.session.commit()
        return program

    return make


def cards_url(c) -> str:
    return f"{BASE}/customers/{c.id}/cards"


def card_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CustomerCard))


def stamps_of(card_id: int) -> int:
    db.session.expire_all()
    return db.session.get(CustomerCard, card_id).stamps


def enrolled(customer, program) -> CustomerCard:
    card = enrol(customer, program, actor=None)
    db.session.commit()
    return card


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_every_endpoint_at_every_access_level(client, business, make_customer, make_program, access):
    c, program = make_customer(), make_program()
    card = enrolled(c, make_program(name="Coffee", stamps_required=1, welcome_stamps=0))
    h = key_headers(business, access)
    assert client.get(cards_url(c), headers=h).status_code == 200
    writes = [
        client.post(cards_url(c), json={"program_id": program.id}, headers=h),
        client.post(f"{cards_url(c)}/{card.id}/stamps", json={"count": 1}, headers=h),
        client.post(f"{cards_url(c)}/{card.id}/redeem", headers=h),
    ]
    if access == "read":
        for r in writes:
            is_problem(r, 403)
        assert card_count() == 1 and stamps_of(card.id) == 0
    else:
        assert [r.status_code for r in writes] == [201, 200, 200], [r.get_json() for r in writes]


def test_enrol_applies_the_welcome_stamps(client, business, make_customer, make_program):
    c, program = make_customer(), make_program(welcome_stamps=2)
    h = key_headers(business, "desk", name="Desk key")
    r = client.post(cards_url(c), json={"program_id": program.id}, headers=h)
    card = r.get_json()
    assert r.status_code == 201 and set(card) == CARD_FIELDS, card
    assert (card["program_id"], card["program"], card["stamps"], card["stamps_needed"]) == (
        program.id,
        "Blow-dry card",
        2,
        3,
    )
    assert card["rewards_available"] == 0 and card["rewards_redeemed"] == 0
    assert card["url"].endswith(f"/cards/{card['code']}") and card["url"].startswith("http")
    listed = client.get(cards_url(c), headers=h).get_json()
    assert listed["data"] == [card] and listed["pagination"]["total"] == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "card.enrolled"))
    assert event.actor_label == "API key Desk key" and event.customer_id == c.id


def test_enrol_refuses_programs_it_cannot_use(client, business, make_business, make_customer, make_program):
    c = make_customer()
    theirs = make_program(business_=make_business("Elsewhere"))
    retired = make_program(name="Old card", active=False)
    taken = make_program(name="Coffee")
    enrolled(c, taken)
    h = key_headers(business, "desk")
    for body in ({"program_id": theirs.id}, {"program_id": retired.id}, {"program_id": taken.id}):
        is_problem(client.post(cards_url(c), json=body, headers=h), 422, "program_id")
    for body in ({}, {"program_id": "1"}, {"program_id": 0}, {"program_id": 2**40}, {"program_id": 1.5}):
        is_problem(client.post(cards_url(c), json=body, headers=h), 422, "program_id")
    assert card_count() == 1


def test_another_business_customer_and_no_key(client, business, make_business, make_customer, make_program):
    other = make_business("Elsewhere")
    theirs = make_customer(business_=other)
    card = enrolled(theirs, make_program(business_=other))
    h = key_headers(business, "desk")
    mine = make_program()
    for r in (
        client.get(cards_url(theirs), headers=h),
        client.post(cards_url(theirs), json={"program_id": mine.id}, headers=h),
        client.post(f"{cards_url(theirs)}/{card.id}/stamps", json={"count": 1}, headers=h),
        client.post(f"{cards_url(theirs)}/{card.id}/redeem", headers=h),
    ):
        is_problem(r, 404)
    is_problem(client.get(cards_url(theirs)), 401)
    is_problem(client.post(f"{cards_url(theirs)}/{card.id}/stamps", json={"count": 1}), 401)
    assert card_count() == 1 and stamps_of(card.id) == 1


def test_a_card_of_another_customer_or_business_is_404(
    client, business, make_business, make_customer, make_program
):
    c, other = make_customer(), make_customer()
    program = make_program()
    others_card = enrolled(other, program)
    elsewhere = make_business("Elsewhere")
    foreign_card = enrolled(make_customer(business_=elsewhere), make_program(business_=elsewhere))
    h = key_headers(business, "desk")
    for card in (others_card, foreign_card):
        is_problem(client.post(f"{cards_url(c)}/{card.id}/stamps", json={"count": 1}, headers=h), 404)
        is_problem(client.post(f"{cards_url(c)}/{card.id}/redeem", headers=h), 404)
    is_problem(client.post(f"{cards_url(c)}/999999/stamps", json={"count": 1}, headers=h), 404)
    assert stamps_of(others_card.id) == 1 and stamps_of(foreign_card.id) == 1


def test_stamps_then_the_reward_with_stamps_carried_over(client, business, make_customer, make_program):
    c = make_customer()
    card = enrolled(c, make_program())  # 1 of 3
    h = key_headers(business, "desk", name="Till")
    url = f"{cards_url(c)}/{card.id}"
    early = is_problem(client.post(f"{url}/redeem", headers=h), 422, "card")
    assert "not ready" in early["errors"]["card"][0]
    r = client.post(f"{url}/stamps", json={"count": 4}, headers=h)
    assert r.status_code == 200 and set(r.get_json()) == CARD_FIELDS
    assert (r.get_json()["stamps"], r.get_json()["rewards_available"]) == (5, 1)
    assert client.post(f"{url}/stamps", json={}, headers=h).get_json()["stamps"] == 6  # count: 1 by default
    done = client.post(f"{url}/redeem", headers=h).get_json()
    assert (done["stamps"], done["rewards_redeemed"], done["rewards_available"]) == (3, 1, 1)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "card.reward_redeemed"))
    assert event.actor_label == "API key Till"
    rows = db.session.scalars(
        select(CardStamp.kind).where(CardStamp.card_id == card.id).order_by(CardStamp.id)
    )
    assert list(rows) == ["welcome", "stamp", "stamp", "redeem"]


@pytest.mark.parametrize("raw", [b"0", b"1000000", b"-1", b"1.5", b'"2"', b"null", b"true", b"1e9999"])
def test_bad_stamp_counts_are_422_on_count_and_write_nothing(
    client, business, make_customer, make_program, raw
):
    c = make_customer()
    card = enrolled(c, make_program())
    r = client.post(
        f"{cards_url(c)}/{card.id}/stamps",
        data=b'{"count": %s}' % raw,
        headers={**key_headers(business, "desk"), "Content-Type": "application/json"},
    )
    is_problem(r, 422, "count")
    assert stamps_of(card.id) == 1


def test_a_replayed_stamp_is_added_once(client, business, make_customer, make_program):
    c = make_customer()
    card = enrolled(c, make_program())
    h = {**key_headers(business, "desk"), "Idempotency-Key": "stamp-visit-7"}
    first = client.post(f"{cards_url(c)}/{card.id}/stamps", json={"count": 1}, headers=h)
    again = client.post(f"{cards_url(c)}/{card.id}/stamps", json={"count": 1}, headers=h)
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert stamps_of(card.id) == 2


def test_an_anonymized_customer_card_takes_no_stamps(client, business, make_customer, make_program):
    c = make_customer()
    card = enrolled(c, make_program())
    c.anonymized_at = datetime.now(UTC)
    db.session.commit()
    r = client.post(
        f"{cards_url(c)}/{card.id}/stamps", json={"count": 1}, headers=key_headers(business, "desk")
    )
    is_problem(r, 422, "count")
    assert stamps_of(card.id) == 1


# --- POST /customers with card_id and send_card_links ----------------------------------------------


def customers_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def test_create_with_card_id_enrols_and_sends_the_link(client, business, make_program):
    program = make_program(welcome_stamps=2)
    h = key_headers(business, "desk")
    r = client.post(
        f"{BASE}/customers",
        json={"name": "Ann Lee", "email": "ann@example.com", "card_id": program.id, "send_card_links": True},
        headers=h,
    )
    body = r.get_json()
    assert r.status_code == 201, body
    [card] = body["cards"]
    assert set(card) == CARD_FIELDS and card["program_id"] == program.id and card["stamps"] == 2
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_address == "ann@example.com" and card["url"] in message.body
    alone = client.get(f"{BASE}/customers/{body['id']}", headers=h).get_json()
    assert alone["cards"] == [card]


def test_create_without_send_card_links_sends_nothing(client, business, make_program):
    program = make_program()
    r = client.post(
        f"{BASE}/customers",
        json={"first_name": "Bea", "phone": "07400 123456", "card_id": program.id},
        headers=key_headers(business, "desk"),
    )
    assert r.status_code == 201 and len(r.get_json()["cards"]) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_create_with_a_bad_card_id_writes_nothing(client, business, make_business, make_program):
    theirs = make_program(business_=make_business("Elsewhere"))
    retired = make_program(name="Old", active=False)
    h = key_headers(business, "desk")
    new = {"first_name": "Cy", "email": "cy@example.com"}
    cases = [
        ({"card_id": theirs.id}, "card_id"),
        ({"card_id": retired.id}, "card_id"),
        ({"card_id": 999_999}, "card_id"),
        ({"card_id": "abc"}, "card_id"),
        ({"card_id": -1}, "card_id"),
        ({"send_card_links": True}, "send_card_links"),
        ({"card_id": retired.id, "send_card_links": "yes"}, "send_card_links"),
    ]
    for extra, field in cases:
        is_problem(client.post(f"{BASE}/customers", json={**new, **extra}, headers=h), 422, field)
    assert customers_count() == 0 and card_count() == 0


def test_sending_a_link_to_a_customer_without_email_writes_nothing(client, business, make_program):
    program = make_program()
    r = client.post(
        f"{BASE}/customers",
        json={"first_name": "Di", "phone": "07400 123457", "card_id": program.id, "send_card_links": True},
        headers=key_headers(business, "desk"),
    )
    is_problem(r, 422, "send_card_links")
    assert customers_count() == 0 and card_count() == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- cards in the customer representation ---------------------------------------------------------


def test_listed_customers_carry_their_cards_as_alone(client, business, make_customer, make_program):
    one, two = make_program(), make_program(name="Coffee", stamps_required=5, welcome_stamps=0)
    c = make_customer(first_name="Zed")
    enrolled(c, two)
    enrolled(c, one)
    h = key_headers(business, "read")
    alone = client.get(f"{BASE}/customers/{c.id}", headers=h).get_json()
    [listed] = client.get(f"{BASE}/customers?query=Zed", headers=h).get_json()["data"]
    assert listed == alone
    assert [k["program"] for k in alone["cards"]] == ["Coffee", "Blow-dry card"]  # oldest first
    assert all(set(k) == CARD_FIELDS for k in alone["cards"])


def test_a_page_with_cards_costs_the_same_queries_whatever_its_size(
    client, business, make_customer, make_program, count_queries
):
    program = make_program()
    for i in range(12):
        enrolled(make_customer(first_name=f"C{i:02}"), program)
    headers = key_headers(business, "read")
    client.get(f"{BASE}/customers?limit=1", headers=headers)  # warm up
    with count_queries() as small:
        client.get(f"{BASE}/customers?limit=1", headers=headers)
    with count_queries() as big:
        body = client.get(f"{BASE}/customers?limit=12", headers=headers).get_json()
    assert len(body["data"]) == 12 and all(len(c["cards"]) == 1 for c in body["data"])
    assert small.count == big.count <= 6, big.statements


def test_the_card_operations_are_documented_with_their_models(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    cards = f"{BASE}/customers/{{customer_id}}/cards"
    expected = {
        ("get", cards): (None, "CardList", "read"),
        ("post", cards): ("Enrol", "Card", "desk"),
        ("post", f"{cards}/{{card_id}}/stamps"): ("Stamps", "Card", "desk"),
        ("post", f"{cards}/{{card_id}}/redeem"): (None, "Card", "desk"),
    }
    for (method, path), (body, response, access) in expected.items():
        op = doc["paths"][path][method]
        ok = next(s for s in op["responses"] if s.startswith("2"))
        assert op["responses"][ok]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{response}")
        assert op["x-access"] == access and "404" in op["responses"]
        if body:
            assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{body}")
    count = doc["components"]["schemas"]["Stamps"]["properties"]["count"]
    assert count["minimum"] == 1 and count["maximum"] == 100
    write = doc["components"]["schemas"]["CustomerWrite"]["properties"]
    assert {"card_id", "send_card_links"} <= set(write)
