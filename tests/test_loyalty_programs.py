"""Stamp-card programs: the rules of their fields, updates, listing and audit."""

import pytest
from sqlalchemy import func, select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty.programs import card_title, create_program, program_for, programs_of, update_program
from webapp.models import AuditEvent, CardProgram


def make(business, owner, **fields):
    values = {"name": "Blow-dry card", "stamps_required": 10, "reward": "Free blow-dry", "welcome_stamps": 1}
    values.update(fields)
    return create_program(business, actor=owner, **values)


@pytest.fixture
def owner(make_user):
    return make_user("owner")


def test_create_program_stores_the_fields_and_audits(business, owner):
    program = make(business, owner, stamp_on_complete=True)
    db.session.commit()
    assert (program.name, program.stamps_required, program.reward, program.welcome_stamps) == (
        "Blow-dry card",
        10,
        "Free blow-dry",
        1,
    )
    assert program.stamp_on_complete and program.active
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "card_program.created"))
    assert event.changes["name"] == "Blow-dry card" and event.actor_id == owner.id


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"stamps_required": 0}, "stamps_required"),
        ({"stamps_required": 101}, "stamps_required"),
        ({"stamps_required": "ten"}, "stamps_required"),
        ({"stamps_required": None}, "stamps_required"),
        ({"reward": ""}, "reward"),
        ({"reward": "r" * 121}, "reward"),
        ({"welcome_stamps": -1}, "welcome_stamps"),
        ({"welcome_stamps": 10}, "welcome_stamps"),  # a new card may not start full
    ],
)
def test_bad_values_are_refused_on_their_field_and_nothing_written(business, owner, fields, field):
    with pytest.raises(Invalid) as e:
        make(business, owner, **fields)
    assert e.value.field == field and e.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CardProgram)) == 0


def test_names_are_unique_in_a_business_whatever_the_case(business, make_business, owner, make_user):
    make(business, owner)
    with pytest.raises(Invalid) as e:
        make(business, owner, name="BLOW-DRY CARD")
    assert e.value.field == "name"
    other = make_business("Other Salon")
    make(other, make_user("owner", other))  # another business may use the name


def test_update_changes_only_what_is_given_and_audits_the_change(business, owner):
    program = make(business, owner)
    update_program(program, actor=owner, reward="Free cut", active=False)
    db.session.commit()
    assert program.reward == "Free cut" and not program.active and program.stamps_required == 10
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "card_program.updated"))
    assert event.changes == {
        "program_id": program.id,
        "reward": ["Free blow-dry", "Free cut"],
        "active": [True, False],
    }


def test_update_refuses_a_bad_value_and_an_unknown_field(business, owner):
    program = make(business, owner)
    other = make(business, owner, name="Coffee")
    with pytest.raises(Invalid) as e:
        update_program(other, actor=owner, name="blow-dry card")
    assert e.value.field == "name"
    with pytest.raises(Invalid) as e:
        update_program(program, actor=owner, stamps_required=1)  # welcome 1 would fill it
    assert e.value.field == "welcome_stamps"
    with pytest.raises(Invalid):
        update_program(program, actor=owner, business_id=99)


def test_programs_of_lists_by_name_and_only_active_when_asked(business, make_business, owner, make_user):
    make(business, owner, name="Coffee", active=False)
    make(business, owner, name="Blow-dry card")
    other = make_business("Other Salon")
    make(other, make_user("owner", other), name="Nails")
    assert [p.name for p in programs_of(business)] == ["Blow-dry card", "Coffee"]
    assert [p.name for p in programs_of(business, active_only=True)] == ["Blow-dry card"]


def test_program_for_is_scoped_to_the_business(business, make_business, owner, make_user):
    mine = make(business, owner)
    other = make_business("Other Salon")
    theirs = make(other, make_user("owner", other), name="Nails")
    assert program_for(business.id, mine.id) is mine
    assert program_for(business.id, theirs.id) is None
    assert program_for(business.id, "abc") is None and program_for(business.id, 10**20) is None


def test_card_title_does_not_say_card_twice(business, owner):
    assert card_title(make(business, owner)) == "Blow-dry card"
    assert card_title(make(business, owner, name="Coffee")) == "Coffee card"
