"""Stamp-card screens, per route and role: programs (owner), the profile's card panel and its actions
(page and htmx), the printable card, a scanned code, the outbox, and enrolling from the new-customer form.
Bad input — a stamp count of 0 or 10^6, a code with one wrong character, another business's code, a
foreign program — gets a clear message and writes nothing."""

import socket
import uuid

import pytest
from sqlalchemy import func, select

from helpers import HX, HX_BOOSTED, csrf_token_from
from webapp.extensions import db
from webapp.loyalty.cards import add_stamps, enrol
from webapp.loyalty.programs import create_program
from webapp.models import CardProgram, CardStamp, Customer, CustomerCard, OutboxMessage

ROLES = ["receptionist", "manager", "owner"]


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def program(business, owner):
    p = create_program(
        business,
        name="Blow-dry card",
        stamps_required=10,
        reward="Free blow-dry",
        welcome_stamps=1,
        actor=owner,
    )
    db.session.commit()
    return p


@pytest.fixture
def card(program, make_customer, owner):
    c = enrol(
        make_customer(first_name="Ada", last_name="Lovelace", email="ada@example.com"), program, actor=owner
    )
    db.session.commit()
    return c


@pytest.fixture
def foreign_card(make_business, make_customer, make_user):
    other = make_business("Other Salon")
    boss = make_user("owner", other)
    p = create_program(
        other, name="Nails", stamps_required=5, reward="Free nails", welcome_stamps=0, actor=boss
    )
    c = enrol(make_customer(business_=other), p, actor=boss)
    db.session.commit()
    return c


def stamps_written() -> int:
    return db.session.scalar(select(func.count()).select_from(CardStamp))


def text(response) -> str:
    return response.get_data(as_text=True)


# --- programs (owner) ------------------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("receptionist", 403), ("manager", 403), ("owner", 200)])
def test_programs_page_is_the_owners(login_as, role, status):
    r = login_as(role).get("/settings/cards")
    assert r.status_code == status
    if status == 200:
        html = text(r)
        for label in (
            "Name",
            "Stamps needed",
            "Reward",
            "Welcome stamps",
            "Active",
            "Stamp when a booking is completed",
        ):
            assert f"{label}</label>" in html


def test_owner_adds_a_program(login_as):
    client = login_as("owner")
    data = {
        "name": "Coffee",
        "stamps_required": "8",
        "reward": "Free coffee",
        "welcome_stamps": "2",
        "active": "y",
    }
    r = client.post("/settings/cards", data=data)
    assert r.status_code == 303 and r.headers["Location"] == "/settings/cards"
    page = text(client.get("/settings/cards"))
    assert "The Coffee card was added." in page and "Free coffee" in page
    program = db.session.scalars(select(CardProgram)).one()
    assert (program.stamps_required, program.welcome_stamps, program.active, program.stamp_on_complete) == (
        8,
        2,
        True,
        False,
    )


@pytest.mark.parametrize(
    "over, message",
    [
        ({"name": ""}, "Give the card a name."),
        ({"stamps_required": "0"}, "Stamps needed must be between 1 and 100."),
        ({"stamps_required": "1000000"}, "Stamps needed must be between 1 and 100."),
        ({"stamps_required": "ten"}, "Not a valid integer value."),
        ({"reward": ""}, "Say what a full card earns."),
        ({"welcome_stamps": "10"}, "Welcome stamps must be between 0 and 9."),
    ],
)
def test_a_bad_program_is_refused_on_its_field(login_as, over, message):
    data = {"name": "Coffee", "stamps_required": "10", "reward": "Free coffee", "welcome_stamps": "0", **over}
    r = login_as("owner").post("/settings/cards", data=data)
    assert r.status_code == 422 and message in text(r)
    assert db.session.scalar(select(func.count()).select_from(CardProgram)) == 0


@pytest.mark.parametrize("role", ["receptionist", "manager"])
def test_only_the_owner_may_add_a_program(login_as, role):
    r = login_as(role).post("/settings/cards", data={"name": "X", "stamps_required": "5", "reward": "Y"})
    assert r.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CardProgram)) == 0


def test_owner_edits_a_program_and_another_businesss_is_404(login_as, program, foreign_card):
    client = login_as("owner")
    assert client.get(f"/settings/cards/{program.id}").status_code == 200
    data = {
        "name": "Blow-dry card",
        "stamps_required": "12",
        "reward": "Free blow-dry",
        "welcome_stamps": "1",
    }
    r = client.post(f"/settings/cards/{program.id}", data=data)  # "active" unticked: retired
    assert r.status_code == 303
    db.session.refresh(program)
    assert program.stamps_required == 12 and not program.active
    assert client.get(f"/settings/cards/{foreign_card.program_id}").status_code == 404
    assert login_as("manager").get(f"/settings/cards/{program.id}").status_code == 403


# --- the profile panel -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_profile_shows_the_card_with_stamps_qr_and_actions(login_as, card, role, owner):
    add_stamps(card, count=6, actor=owner)
    db.session.commit()
    html = text(login_as(role).get(f"/customers/{card.customer_id}"))
    assert 'id="loyalty-cards"' in html and "Blow-dry card" in html and "7 of 10" in html
    assert html.count('class="stamp stamp-filled"') == 7 and html.count('class="stamp"') == 3
    assert card.code in html and f'aria-label="QR code of card {card.code}"' in html and 'role="img"' in html
    assert "Add stamp" in html and "Send card link" in html and "Redeem reward" not in html
    assert f"/customers/{card.customer_id}/cards/{card.id}/print" in html


def test_profile_shows_reward_ready_and_the_enrol_form(login_as, card, owner, business):
    add_stamps(card, count=9, actor=owner)
    create_program(business, name="Coffee", stamps_required=5, reward="Free coffee", actor=owner)
    create_program(business, name="Retired", stamps_required=5, reward="Old", active=False, actor=owner)
    db.session.commit()
    html = text(login_as("receptionist").get(f"/customers/{card.customer_id}"))
    assert "Reward ready: Free blow-dry" in html and "Redeem reward" in html
    assert "Enrol in a card" in html and "Coffee (5 stamps: Free coffee)" in html
    assert "Retired (" not in html and "Blow-dry card (10 stamps" not in html  # has it already


def test_profile_without_cards_or_programs(login_as, make_customer):
    html = text(login_as("receptionist").get(f"/customers/{make_customer().id}"))
    assert "No stamp card yet." in html and "Enrol in a card" not in html


def test_the_card_panel_costs_one_query(login_as, card, make_customer, count_queries, business, owner):
    client = login_as("receptionist")
    bare = make_customer()
    client.get(f"/customers/{bare.id}")  # warm up
    with count_queries() as without_cards:
        client.get(f"/customers/{bare.id}")
    create_program(business, name="Coffee", stamps_required=5, reward="Free coffee", actor=owner)
    enrol(
        bare, db.session.scalars(select(CardProgram).where(CardProgram.name == "Coffee")).one(), actor=owner
    )
    db.session.commit()
    with count_queries() as with_cards:
        client.get(f"/customers/{bare.id}")
    assert with_cards.count == without_cards.count


# --- enrol -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_enrol_from_the_profile(login_as, program, make_customer, role):
    customer = make_customer()
    client = login_as(role)
    r = client.post(f"/customers/{customer.id}/cards", data={"program_id": program.id})
    assert r.status_code == 303 and r.headers["Location"] == f"/customers/{customer.id}#loyalty-cards"
    card = db.session.scalars(select(CustomerCard)).one()
    assert card.customer_id == customer.id and card.stamps == 1
    assert "now has a Blow-dry card (1 of 10 stamps)." in text(client.get(f"/customers/{customer.id}"))


def test_enrol_with_htmx_answers_the_panel(login_as, program, make_customer):
    customer = make_customer()
    r = login_as("receptionist").post(
        f"/customers/{customer.id}/cards", data={"program_id": program.id}, headers=HX
    )
    html = text(r)
    assert (
        r.status_code == 200
        and "<html" not in html
        and html.lstrip().startswith('<section class="card loyalty-cards"')
    )
    assert "1 of 10" in html and "now has a Blow-dry card" in html
    assert "HX-Request" in r.headers["Vary"]


def test_enrolling_twice_is_a_clear_message(login_as, card):
    client = login_as("receptionist")
    r = client.post(f"/customers/{card.customer_id}/cards", data={"program_id": card.program_id})
    assert r.status_code == 303
    assert "already has a Blow-dry card" in text(client.get(r.headers["Location"]))
    r = client.post(f"/customers/{card.customer_id}/cards", data={"program_id": card.program_id}, headers=HX)
    assert r.status_code == 422 and "already has a Blow-dry card" in text(r)
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 1


@pytest.mark.parametrize("value", ["abc", "999999", "", "99999999999999999999999"])
def test_enrol_in_an_unknown_program_writes_nothing(login_as, program, make_customer, value):
    customer = make_customer()
    r = login_as("receptionist").post(
        f"/customers/{customer.id}/cards", data={"program_id": value}, headers=HX
    )
    assert r.status_code == 422 and ("Choose one of this business" in text(r) or "Invalid Choice" in text(r))
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 0


def test_enrol_in_another_businesss_program_writes_nothing(login_as, make_customer, foreign_card):
    customer = make_customer()
    r = login_as("receptionist").post(
        f"/customers/{customer.id}/cards", data={"program_id": foreign_card.program_id}
    )
    assert r.status_code == 303
    assert (
        db.session.scalar(
            select(func.count()).select_from(CustomerCard).where(CustomerCard.customer_id == customer.id)
        )
        == 0
    )


def test_another_businesss_customer_is_404(login_as, foreign_card, program):
    client = login_as("receptionist")
    assert (
        client.post(
            f"/customers/{foreign_card.customer_id}/cards", data={"program_id": program.id}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/customers/{foreign_card.customer_id}/cards/{foreign_card.id}/stamps").status_code
        == 404
    )


# --- stamps and rewards ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_add_stamp_in_one_click(login_as, card, role):
    client = login_as(role)
    r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/stamps")
    assert r.status_code == 303
    db.session.refresh(card)
    assert card.stamps == 2
    assert "Stamped: 2 of 10 on the Blow-dry card." in text(client.get(r.headers["Location"]))


def test_add_stamp_with_htmx_and_several_at_once(login_as, card):
    r = login_as("receptionist").post(
        f"/customers/{card.customer_id}/cards/{card.id}/stamps", data={"count": "9"}, headers=HX
    )
    html = text(r)
    assert (
        r.status_code == 200
        and "10 of 10" in html
        and "Reward ready: Free blow-dry" in html
        and "Reward ready!" in html
    )


@pytest.mark.parametrize("count", ["0", "1000000", "-3", "abc", "1e9999"])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_bad_stamp_count_is_refused_with_a_message_and_nothing_written(login_as, card, count, headers):
    client = login_as("receptionist")
    before = stamps_written()
    r = client.post(
        f"/customers/{card.customer_id}/cards/{card.id}/stamps", data={"count": count}, headers=headers
    )
    if headers:
        assert r.status_code == 422
        html = text(r)
    else:
        assert r.status_code == 303
        html = text(client.get(r.headers["Location"]))
    assert "Add between 1 and 100 stamps at a time." in html or "Not a valid integer value." in html
    assert stamps_written() == before
    db.session.refresh(card)
    assert card.stamps == 1


def test_a_card_of_another_customer_or_business_is_404(login_as, card, foreign_card, make_customer):
    client = login_as("receptionist")
    other = make_customer()
    assert client.post(f"/customers/{other.id}/cards/{card.id}/stamps").status_code == 404
    assert client.post(f"/customers/{card.customer_id}/cards/{foreign_card.id}/stamps").status_code == 404
    assert client.post(f"/customers/{card.customer_id}/cards/{foreign_card.id}/redeem").status_code == 404
    assert client.get(f"/customers/{card.customer_id}/cards/{foreign_card.id}/print").status_code == 404
    assert stamps_written() == 1  # only the welcome stamp of our card
    db.session.refresh(foreign_card)
    assert foreign_card.stamps == 0


@pytest.mark.parametrize("role", ROLES)
def test_redeem_a_full_card(login_as, card, owner, role):
    add_stamps(card, count=10, actor=owner)  # 11: one reward, one over
    db.session.commit()
    client = login_as(role)
    r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/redeem")
    assert r.status_code == 303
    db.session.refresh(card)
    assert (card.stamps, card.rewards_redeemed) == (1, 1)
    assert "Reward redeemed: Free blow-dry. The card now has 1 of 10 stamps." in text(
        client.get(r.headers["Location"])
    )


def test_redeem_before_the_card_is_full_is_refused(login_as, card):
    client = login_as("receptionist")
    r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/redeem", headers=HX)
    assert r.status_code == 422 and "not ready yet" in text(r)
    db.session.refresh(card)
    assert card.rewards_redeemed == 0 and stamps_written() == 1


# --- the printable card ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_printable_card(login_as, card, role):
    r = login_as(role).get(f"/customers/{card.customer_id}/cards/{card.id}/print")
    html = text(r)
    assert r.status_code == 200 and "printed-card" in html and "css/loyalty.css" in html
    assert card.code in html and "Ada Lovelace" in html and "Blow-dry card" in html and "1 of 10" in html
    assert f'aria-label="QR code of card {card.code}"' in html


# --- a scanned code --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_scanned_code_opens_the_customer(login_as, card, role):
    client = login_as(role)
    for typed in (card.code, card.code.lower(), card.code.replace("-", "")):
        r = client.get(f"/cards/{typed}")
        assert (
            r.status_code == 303 and r.headers["Location"] == f"/customers/{card.customer_id}#loyalty-cards"
        )


def test_a_code_with_one_wrong_character_is_no_card(login_as, card):
    wrong = card.code[:2] + ("X" if card.code[2] != "X" else "Y") + card.code[3:]
    r = login_as("receptionist").get(f"/cards/{wrong}")
    html = text(r)
    assert r.status_code == 404 and "No card with this code" in html and "mistyped" in html
    assert str(card.customer_id) not in html


def test_another_businesss_code_is_no_card(login_as, foreign_card):
    r = login_as("receptionist").get(f"/cards/{foreign_card.code}")
    html = text(r)
    assert r.status_code == 404 and "No card with this code" in html and "another business" in html
    assert str(foreign_card.customer_id) not in html


def test_scanning_needs_a_signed_in_user(client, card):
    r = client.get(f"/cards/{card.code}")
    assert r.status_code in (302, 303) and "/login" in r.headers["Location"]


# --- the card link by email, and the outbox --------------------------------------------------------


def test_send_card_link_without_a_mail_server_goes_to_the_outbox(login_as, card):
    client = login_as("receptionist")
    r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/send")
    assert r.status_code == 303
    assert "is kept in the outbox" in text(client.get(r.headers["Location"]))
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.to_address == "ada@example.com" and f"/cards/{card.code}" in message.body


def test_send_card_link_to_a_customer_without_email_is_a_clear_message(
    login_as, program, make_customer, owner
):
    c = make_customer(email=None, phone="+447400123456")
    card = enrol(c, program, actor=owner)
    db.session.commit()
    r = login_as("receptionist").post(f"/customers/{c.id}/cards/{card.id}/send", headers=HX)
    assert r.status_code == 422 and "has no email address" in text(r)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_mail_server_that_fails_is_a_flash_not_a_500(app, login_as, card):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        client = login_as("receptionist")
        r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/send")
        assert r.status_code == 303
        assert "could not be sent" in text(client.get(r.headers["Location"]))
    finally:
        app.config["MAIL_URL"] = None
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.sent_at is None and message.error


@pytest.mark.parametrize("role, status", [("receptionist", 403), ("manager", 403), ("owner", 200)])
def test_the_outbox_is_the_owners(login_as, card, role, status):
    owner_client = login_as("receptionist")
    owner_client.post(f"/customers/{card.customer_id}/cards/{card.id}/send")
    message = db.session.scalars(select(OutboxMessage)).one()
    client = login_as(role)
    r = client.get("/settings/outbox")
    assert r.status_code == status
    one = client.get(f"/settings/outbox/{message.id}")
    assert one.status_code == status
    if status == 200:
        assert "Your Blow-dry card" in text(r) and "Outbox only" in text(r)
        assert f"/cards/{card.code}" in text(one)
        assert "<html" not in text(client.get("/settings/outbox", headers=HX))
        assert "<html" in text(client.get("/settings/outbox", headers=HX_BOOSTED))


def test_another_businesss_message_is_404(login_as, make_business, make_user):
    other = make_business("Other Salon")
    m = OutboxMessage(business_id=other.id, to_address="x@example.com", subject="S", body="B", error="")
    db.session.add(m)
    db.session.commit()
    assert login_as("owner").get(f"/settings/outbox/{m.id}").status_code == 404


# --- the new-customer form -------------------------------------------------------------------------


def customer_form(**over):
    data = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "07400 123457",
        "source": "phone",
        "form_token": uuid.uuid4().hex,
    }
    data.update(over)
    return data


def test_the_new_customer_form_offers_the_active_programs(login_as, program, business, owner):
    create_program(business, name="Retired", stamps_required=5, reward="Old", active=False, actor=owner)
    db.session.commit()
    html = text(login_as("receptionist").get("/customers/new"))
    assert (
        ">Stamp card</label>" in html
        and ">Blow-dry card</option>" in html
        and ">Retired</option>" not in html
    )
    assert ">Stamp card</label>" not in text(login_as("receptionist").get("/customers/new?walk_in=1"))


def test_a_new_customer_is_enrolled_in_the_same_transaction(login_as, program):
    r = login_as("receptionist").post("/customers/new", data=customer_form(program_id=str(program.id)))
    assert r.status_code == 303
    customer = db.session.scalars(select(Customer)).one()
    card = db.session.scalars(select(CustomerCard)).one()
    assert card.customer_id == customer.id and card.stamps == 1


def test_a_new_customer_with_a_foreign_program_is_refused_and_nothing_written(login_as, foreign_card):
    before = db.session.scalar(select(func.count()).select_from(Customer))
    r = login_as("receptionist").post(
        "/customers/new", data=customer_form(program_id=str(foreign_card.program_id))
    )
    assert r.status_code == 422 and "Choose one of this business" in text(r)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == before
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 1  # only the foreign one


def test_a_new_customer_without_a_card(login_as, program):
    r = login_as("receptionist").post("/customers/new", data=customer_form(program_id=""))
    assert r.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 0


# --- CSRF ------------------------------------------------------------------------------------------


def test_card_actions_need_the_csrf_token(csrf_app, login_as, card):
    client = login_as("receptionist")
    r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/stamps")
    assert r.status_code in (303, 400, 422)
    db.session.refresh(card)
    assert card.stamps == 1
    token = csrf_token_from(client.get(f"/customers/{card.customer_id}").data)
    r = client.post(f"/customers/{card.customer_id}/cards/{card.id}/stamps", data={"csrf_token": token})
    assert r.status_code == 303
    db.session.refresh(card)
    assert card.stamps == 2
