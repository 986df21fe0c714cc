"""A card code finds its customer in the search box, the picker, the API's search and the service; a
code with one wrong character or another business's code finds no one; a normal search costs no query
more."""

import pytest
from sqlalchemy import select

from api_support import BASE, key_headers
from helpers import HX
from webapp.extensions import db
from webapp.loyalty.cards import enrol
from webapp.loyalty.programs import create_program
from webapp.models import CustomerCard
from webapp.search import Filters, search_customers
from webapp.search.card_codes import card_code_of

PICKER_RESULTS = {**HX, "HX-Target": "picker-results"}


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def card(business, make_customer, owner):
    program = create_program(business, name="Blow-dry card", stamps_required=10, reward="Free", actor=owner)
    for n in range(5):  # others in the book, one with the code's characters in her name
        make_customer(first_name=f"Other{n}", last_name="Person")
    card = enrol(make_customer(first_name="Zelda", last_name="Fitzgerald"), program, actor=owner)
    db.session.commit()
    return card


@pytest.fixture
def foreign_card(make_business, make_customer, make_user):
    other = make_business("Other Salon")
    boss = make_user("owner", other)
    program = create_program(other, name="Nails", stamps_required=5, reward="Free", actor=boss)
    card = enrol(make_customer(business_=other, first_name="Foreign"), program, actor=boss)
    db.session.commit()
    return card


def one_wrong(code: str) -> str:
    """The code with its fourth character changed (a typo the check character must catch)."""
    return code[:3] + ("X" if code[3] != "X" else "Y") + code[4:]


def ids(results) -> list:
    return [c.id for c in results.customers]


def test_the_service_finds_the_card_holder_however_the_code_is_typed(business, card):
    compact = card.code.replace("-", "")
    for typed in (card.code, card.code.lower(), compact, " ".join(compact), compact.replace("0", "O")):
        results = search_customers(business, typed)
        assert ids(results) == [card.customer_id] and results.count == 1


def test_a_scanned_card_link_typed_by_a_barcode_scanner_finds_the_holder(business, card):
    assert ids(search_customers(business, f"https://desk.example.com/cards/{card.code}")) == [
        card.customer_id
    ]
    assert card_code_of(f"http://x/cards/{card.code}?utm=1") == card.code


def test_a_code_with_one_wrong_character_finds_no_one(business, card):
    assert search_customers(business, one_wrong(card.code)).customers == []


def test_another_businesss_code_finds_no_one(business, card, foreign_card):
    assert foreign_card.customer_id not in ids(search_customers(business, foreign_card.code))


def test_filters_still_apply_to_the_card_holder(business, card, make_tag):
    vip = make_tag("VIP")
    assert search_customers(business, card.code, Filters(tags=[vip.id])).customers == []


def test_the_api_columns_come_with_the_card_holder(business, card):
    from webapp.models import Customer

    results = search_customers(business, card.code, columns=(Customer.points_balance,))
    assert results.customers[0].points_balance == 0


def test_a_normal_search_costs_no_query_more(business, card, count_queries):
    holder = card.customer_id
    search_customers(business, "zelda")  # warm the statement caches
    with count_queries() as q:
        found = search_customers(business, "zelda")
    assert ids(found) == [holder] and q.count == 1
    assert not any("customer_card" in s for s in q.statements), q.statements


def test_a_card_search_is_one_indexed_query(business, card, count_queries):
    code = card.code
    search_customers(business, code)
    with count_queries() as q:
        search_customers(business, code)
    assert q.count == 1 and "customer_card" in q.statements[0]


def test_the_card_lookup_uses_the_business_code_index(app, business, card):
    sql = select(CustomerCard.customer_id).where(
        CustomerCard.business_id == business.id, CustomerCard.code == card.code
    )
    compiled = str(sql.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if app.backend == "sqlite":
        plan = " ".join(str(r) for r in db.session.execute(db.text(f"EXPLAIN QUERY PLAN {compiled}")))
    else:
        db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(str(r) for r in db.session.execute(db.text(f"EXPLAIN {compiled}")))
    assert "ix_customer_card_business_code" in plan


def test_the_search_box_finds_the_card_holder(login_as, card):
    client = login_as("receptionist")
    html = client.get(f"/customers?q={card.code}", headers=HX).get_data(as_text=True)
    assert "Zelda" in html and "Other0" not in html
    html = client.get(f"/customers?q={one_wrong(card.code)}", headers=HX).get_data(as_text=True)
    assert "Zelda" not in html


def test_the_picker_finds_the_card_holder(login_as, card, foreign_card):
    client = login_as("receptionist")
    html = client.get(f"/picker?q={card.code.lower()}", headers=PICKER_RESULTS).get_data(as_text=True)
    assert "Zelda" in html and "Other0" not in html
    html = client.get(f"/picker?q={foreign_card.code}", headers=PICKER_RESULTS).get_data(as_text=True)
    assert "Foreign" not in html


def test_the_apis_search_finds_the_card_holder(client, business, card, foreign_card):
    headers = key_headers(business, "read")
    found = client.get(f"{BASE}/customers?search={card.code}", headers=headers).get_json()["data"]
    assert [c["first_name"] for c in found] == ["Zelda"]
    assert client.get(f"{BASE}/customers?q={card.code.lower()}", headers=headers).get_json()["data"] == found
    assert client.get(f"{BASE}/customers?q={foreign_card.code}", headers=headers).get_json()["data"] == []
