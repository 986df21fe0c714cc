"""Stamp cards: enrol (welcome stamps), stamp (1..100), redeem (full card, stamps carried over), codes
unique per business, a completed booking's stamp, and every balance equal to the sum of its rows."""

import threading

import pytest
from sqlalchemy import func, select

from webapp import signals
from webapp.database import utcnow
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty import cards as card_services
from webapp.loyalty import codes
from webapp.loyalty.cards import (
    add_stamps,
    card_for,
    card_url,
    cards_of,
    enrol,
    find_by_code,
    redeem_reward,
    rewards_available,
)
from webapp.loyalty.programs import create_program
from webapp.models import AuditEvent, CardStamp, CustomerCard


@pytest.fixture
def staff(make_user):
    return make_user("receptionist")


@pytest.fixture
def make_program(business, make_user):
    owner = make_user("owner")

    def make(business_=None, **fields):
        values = {
            "name": "Blow-dry card",
            "stamps_required": 10,
            "reward": "Free blow-dry",
            "welcome_stamps": 1,
        }
        values.update(fields)
        program = create_program(business_ or business, actor=owner, **values)
        db.session.commit()
        return program

    return make


def rows_of(card) -> list[CardStamp]:
    return list(
        db.session.scalars(select(CardStamp).where(CardStamp.card_id == card.id).order_by(CardStamp.id))
    )


def assert_sums(card):
    """The card's stamps are the sum of its rows, each row's stamps_after the running total."""
    db.session.refresh(card)
    running = 0
    for row in rows_of(card):
        running += row.stamps
        assert row.stamps_after == running >= 0
    assert card.stamps == running


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- enrol -----------------------------------------------------------------------------------------


def test_enrol_applies_the_welcome_stamps_at_once(make_customer, make_program, staff):
    customer, program = make_customer(), make_program(welcome_stamps=2)
    card = enrol(customer, program, actor=staff)
    db.session.commit()
    assert card.stamps == 2 and card.program is program and card.customer_id == customer.id
    [row] = rows_of(card)
    assert (row.kind, row.stamps, row.stamps_after, row.created_by_id) == ("welcome", 2, 2, staff.id)
    assert codes.normalize_code(card.code) == card.code and len(card.code) <= 16
    assert "card.enrolled" in actions()
    assert_sums(card)


def test_enrol_without_welcome_stamps_writes_no_stamp_row(make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(welcome_stamps=0), actor=staff)
    assert card.stamps == 0 and rows_of(card) == []


def test_enrolling_twice_in_a_program_is_refused_with_a_message(make_customer, make_program, staff):
    customer, program = make_customer(first_name="Ada"), make_program()
    enrol(customer, program, actor=staff)
    db.session.commit()
    with pytest.raises(Invalid) as e:
        enrol(customer, program, actor=staff)
    assert e.value.field == "program_id" and "already has" in e.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 1
    enrol(customer, make_program(name="Coffee"), actor=staff)  # another program is fine


def test_enrol_refuses_a_retired_or_foreign_program(make_customer, make_program, make_business, staff):
    customer = make_customer()
    with pytest.raises(Invalid) as e:
        enrol(customer, make_program(active=False), actor=staff)
    assert e.value.field == "program_id" and "no longer open" in e.value.message
    other = make_business("Other Salon")
    with pytest.raises(Invalid):
        enrol(customer, make_program(business_=other, name="Nails"), actor=staff)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 0


def test_enrol_refuses_an_anonymized_customer(make_customer, make_program, staff):
    customer = make_customer(anonymized_at=utcnow())
    with pytest.raises(Invalid) as e:
        enrol(customer, make_program(), actor=staff)
    assert "anonymized" in e.value.message


def test_a_code_already_used_in_the_business_is_drawn_again(make_customer, make_program, staff, monkeypatch):
    program = make_program()
    first = enrol(make_customer(), program, actor=staff)
    db.session.commit()
    fresh = codes.new_code()
    draws = iter([first.code, first.code, fresh])
    monkeypatch.setattr(card_services, "new_code", lambda: next(draws))
    second = enrol(make_customer(), program, actor=staff)
    db.session.commit()
    assert second.code == fresh and second.stamps == 1
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) == 2
    assert_sums(second)


def test_the_same_code_may_exist_in_two_businesses(
    make_customer, make_program, make_business, staff, monkeypatch
):
    other = make_business("Other Salon")
    mine = enrol(make_customer(), make_program(), actor=staff)
    db.session.commit()
    monkeypatch.setattr(card_services, "new_code", lambda: mine.code)
    theirs = enrol(make_customer(business_=other), make_program(business_=other, name="Nails"), actor=None)
    db.session.commit()
    assert theirs.code == mine.code
    assert find_by_code(business_id=mine.business_id, text=mine.code) is mine
    assert find_by_code(other.id, mine.code) is theirs


# --- stamps ----------------------------------------------------------------------------------------


def test_add_stamps_appends_rows_with_the_running_total(make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    add_stamps(card, actor=staff)
    add_stamps(card, count=3, actor=staff)
    db.session.commit()
    assert card.stamps == 5
    assert [(r.kind, r.stamps, r.stamps_after) for r in rows_of(card)] == [
        ("welcome", 1, 1),
        ("stamp", 1, 2),
        ("stamp", 3, 5),
    ]
    assert actions().count("card.stamped") == 2
    assert_sums(card)


@pytest.mark.parametrize("count", [0, -1, 101, 10**6, "abc", None, 1.5, True, ""])
def test_a_bad_stamp_count_is_refused_on_count_and_nothing_written(make_customer, make_program, staff, count):
    card = enrol(make_customer(), make_program(), actor=staff)
    db.session.commit()
    with pytest.raises(Invalid) as e:
        add_stamps(card, count=count, actor=staff)
    assert e.value.field == "count" and "between 1 and 100" in e.value.message
    db.session.rollback()
    assert len(rows_of(card)) == 1 and card_for(card.business_id, card.id).stamps == 1


def test_a_retired_programs_card_takes_no_stamps_but_still_redeems(
    make_customer, make_program, staff, make_user
):
    from webapp.loyalty.programs import update_program

    program = make_program(stamps_required=2, welcome_stamps=0)
    card = enrol(make_customer(), program, actor=staff)
    add_stamps(card, count=2, actor=staff)
    update_program(program, actor=make_user("owner"), active=False)
    db.session.commit()
    with pytest.raises(Invalid) as e:
        add_stamps(card, actor=staff)
    assert e.value.field == "count" and "retired" in e.value.message
    db.session.rollback()
    redeem_reward(card, actor=staff)
    assert card.stamps == 0 and card.rewards_redeemed == 1


# --- rewards ---------------------------------------------------------------------------------------


def test_redeem_needs_a_full_card(make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    add_stamps(card, count=8, actor=staff)
    db.session.commit()
    assert rewards_available(card) == 0
    with pytest.raises(Invalid) as e:
        redeem_reward(card, actor=staff)
    assert e.value.field == "card" and "9 of 10" in e.value.message
    db.session.rollback()
    assert card_for(card.business_id, card.id).rewards_redeemed == 0 and len(rows_of(card)) == 2


def test_redeem_spends_one_card_and_carries_the_rest_over(make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    add_stamps(card, count=11, actor=staff)  # 12: one reward and two stamps over
    assert rewards_available(card) == 1
    redeem_reward(card, actor=staff)
    db.session.commit()
    assert (card.stamps, card.rewards_redeemed, rewards_available(card)) == (2, 1, 0)
    assert rows_of(card)[-1].kind == "redeem" and rows_of(card)[-1].stamps == -10
    assert "card.reward_redeemed" in actions()
    assert_sums(card)


def test_two_rewards_on_one_card_redeem_one_at_a_time(make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(stamps_required=3, welcome_stamps=0), actor=staff)
    add_stamps(card, count=7, actor=staff)
    assert rewards_available(card) == 2
    redeem_reward(card, actor=staff)
    redeem_reward(card, actor=staff)
    with pytest.raises(Invalid):
        redeem_reward(card, actor=staff)
    assert (card.stamps, card.rewards_redeemed) == (1, 2)


def test_two_tills_redeeming_the_same_full_card_at_once_redeem_once(app, make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    add_stamps(card, count=9, actor=staff)  # exactly full
    db.session.commit()
    card_id, business_id, staff_id = card.id, card.business_id, staff.id
    barrier, outcomes = threading.Barrier(2), []

    def till():
        with app.app_context():
            from webapp.models import StaffUser

            mine = card_for(business_id, card_id)
            actor = db.session.get(StaffUser, staff_id)
            barrier.wait()
            try:
                redeem_reward(mine, actor=actor)
                db.session.commit()
                outcomes.append("redeemed")
            except Invalid:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=till) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["redeemed", "refused"]
    db.session.expire_all()
    card = card_for(business_id, card_id)
    assert (card.stamps, card.rewards_redeemed) == (0, 1)
    assert_sums(card)


def test_two_clicks_on_add_stamp_at_once_add_two_stamps_not_one(app, make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    db.session.commit()
    card_id, business_id = card.id, card.business_id
    barrier = threading.Barrier(2)

    def click():
        with app.app_context():
            mine = card_for(business_id, card_id)
            barrier.wait()
            add_stamps(mine, actor=None)
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.expire_all()
    card = card_for(business_id, card_id)
    assert card.stamps == 3
    assert_sums(card)


# --- finding cards ---------------------------------------------------------------------------------


def test_find_by_code_forgives_typing_and_refuses_a_typo(make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    db.session.commit()
    assert find_by_code(card.business_id, card.code.lower().replace("-", " ")) is card
    wrong = card.code[:-1] + ("2" if card.code[-1] != "2" else "3")
    assert find_by_code(card.business_id, wrong) is None
    assert find_by_code(card.business_id, "not a code") is None


def test_find_by_code_never_answers_another_businesss_card(make_customer, make_program, make_business, staff):
    other = make_business("Other Salon")
    theirs = enrol(make_customer(business_=other), make_program(business_=other, name="Nails"), actor=None)
    db.session.commit()
    assert find_by_code(staff.business_id, theirs.code) is None
    assert card_for(staff.business_id, theirs.id) is None
    assert card_for(staff.business_id, "x") is None and card_for(staff.business_id, 2**70) is None


def test_cards_of_lists_the_customers_cards_with_programs_in_one_query(
    make_customer, make_program, staff, count_queries
):
    customer = make_customer()
    enrol(customer, make_program(), actor=staff)
    enrol(customer, make_program(name="Coffee"), actor=staff)
    db.session.commit()
    db.session.expire_all()
    with count_queries() as q:
        found = cards_of(customer)
        names = [c.program.name for c in found]
    assert names == ["Blow-dry card", "Coffee"] and q.count <= 2  # the customer's reload, then the cards


def test_card_url_is_the_absolute_scan_link(app, make_customer, make_program, staff):
    card = enrol(make_customer(), make_program(), actor=staff)
    with app.test_request_context(base_url="https://desk.example.com"):
        assert card_url(card) == f"https://desk.example.com/cards/{card.code}"


# --- a completed booking ---------------------------------------------------------------------------


def test_a_completed_booking_stamps_cards_whose_program_says_so_once(
    make_customer, make_program, make_booking, staff
):
    customer = make_customer()
    stamped = enrol(customer, make_program(stamp_on_complete=True), actor=staff)
    by_hand = enrol(customer, make_program(name="Coffee"), actor=staff)
    booking = make_booking(customer, days=-1, status="completed")
    signals.booking_completed.send(booking, actor=staff)
    signals.booking_completed.send(booking, actor=staff)  # a second send for the same visit adds nothing
    db.session.commit()
    assert (stamped.stamps, by_hand.stamps) == (2, 1)
    row = rows_of(stamped)[-1]
    assert row.booking_id == booking.id and row.kind == "stamp"
    assert_sums(stamped)


def test_a_completed_booking_of_an_anonymized_customer_stamps_nothing(
    make_customer, make_program, make_booking, staff
):
    customer = make_customer()
    card = enrol(customer, make_program(stamp_on_complete=True), actor=staff)
    customer.anonymized_at = utcnow()
    db.session.commit()
    signals.booking_completed.send(make_booking(customer, days=-1, status="completed"), actor=None)
    assert card.stamps == 1


def test_completing_a_booking_through_the_bookings_service_stamps_the_card(
    make_customer, make_program, make_booking, staff
):
    from webapp.bookings.services import complete_booking

    customer = make_customer()
    card = enrol(customer, make_program(stamp_on_complete=True), actor=staff)
    booking = make_booking(customer, days=-1, price=0)
    complete_booking(booking, staff)
    db.session.commit()
    db.session.refresh(card)
    assert card.stamps == 2 and rows_of(card)[-1].booking_id == booking.id
    assert_sums(card)
