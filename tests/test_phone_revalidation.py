"""Stored phone numbers are re-checked only when they change; `flask check-phones` lists those the
installed phone metadata no longer accepts (07911 9xxxxx, Ofcom's 07700 900xxx)."""

import pytest

from webapp.customers import services
from webapp.customers.phone_check import retired_phones
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.phones import normalize_changed_phone, normalize_phone, same_number

RETIRED = "+447911900123"  # valid once; `phonenumbers` 9 calls 07911 9xxxxx invalid
DRAMA = "+447700900456"


@pytest.fixture
def old_customer(make_customer):
    """A customer saved before the metadata changed."""
    return make_customer(first_name="Ann", last_name="Lee", phone=RETIRED, email=None, email_normalized=None)


def edit_body(customer, **changes) -> dict:
    """The edit form as the browser sends it back, with `changes`."""
    return {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": "",
        "phone": "07911 900123",  # as the form shows it (national format)
        "source": "other",
        "version": str(customer.version),
        **changes,
    }


def test_the_numbers_are_invalid_under_the_installed_metadata():
    """The premise: typing these numbers afresh is refused."""
    for number in ("07911 900123", "07700 900456"):
        with pytest.raises(Invalid):
            normalize_phone(number, "GB")


def test_an_unchanged_number_is_kept_however_it_is_written():
    """National, international or spaced differently: the same number is the stored one."""
    for typed in ("07911 900123", "+44 7911 900123", "+447911900123", "(07911) 900-123"):
        assert same_number(typed, RETIRED, "GB")
        assert normalize_changed_phone(typed, "GB", RETIRED) == RETIRED
    assert not same_number("07911 900124", RETIRED, "GB")
    assert not same_number("", RETIRED, "GB")
    with pytest.raises(Invalid):
        normalize_changed_phone("07911 900124", "GB", RETIRED)


def test_a_customer_with_a_retired_number_can_still_be_edited(login_as, old_customer):
    """Nobody touched the phone: the notes are saved and the number stays."""
    client = login_as("receptionist")
    page = client.get(f"/customers/{old_customer.id}/edit")
    assert page.status_code == 200 and "07911 900123" in page.get_data(as_text=True)
    response = client.post(f"/customers/{old_customer.id}/edit", data=edit_body(old_customer, notes="Tea"))
    assert response.status_code == 303
    db.session.refresh(old_customer)
    assert (old_customer.notes, old_customer.phone) == ("Tea", RETIRED)


def test_changing_to_an_invalid_number_is_still_refused(login_as, old_customer):
    """A number someone types is checked: the drama range is refused on the phone field."""
    client = login_as("receptionist")
    response = client.post(
        f"/customers/{old_customer.id}/edit", data=edit_body(old_customer, phone="07700 900456")
    )
    assert response.status_code == 422
    assert "not a valid number" in response.get_data(as_text=True)
    db.session.refresh(old_customer)
    assert old_customer.phone == RETIRED


def test_the_service_keeps_the_stored_number(old_customer):
    """`update_customer` with the phone as stored changes only what changed."""
    changed = services.update_customer(
        old_customer,
        None,
        {"phone": "+447911900123", "company": "Acme"},
        expected_version=old_customer.version,
    )
    assert changed == {"company": ["", "Acme"]} or set(changed) == {"company"}
    assert old_customer.phone == RETIRED


def test_a_new_customer_cannot_take_a_retired_number(business):
    """The lenient reading is for the stored number of the record being edited only."""
    with pytest.raises(Invalid) as e:
        services.check_customer(business, {"first_name": "Bo", "phone": "07911 900123"})
    assert "phone" in e.value.problems


def test_leaving_the_field_does_not_flag_the_stored_number(login_as, old_customer):
    """The field check (htmx, on blur) of the record's own unchanged number says nothing is wrong."""
    client = login_as("receptionist")
    response = client.get(
        "/customers/validate",
        query_string={"field": "phone", "phone": "07911 900123", "customer_id": str(old_customer.id)},
    )
    assert response.status_code == 200
    assert "not a valid number" not in response.get_data(as_text=True)


def test_check_phones_lists_the_retired_numbers(app, business, make_customer, old_customer):
    """Per business, customer id and number; valid numbers are not listed."""
    drama = make_customer(phone=DRAMA)
    make_customer(phone="+447911123456")
    make_customer(phone=None)
    result = app.test_cli_runner().invoke(args=["check-phones"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"{business.name}\t{old_customer.id}\t{RETIRED}" in lines
    assert f"{business.name}\t{drama.id}\t{DRAMA}" in lines
    assert "+447911123456" not in result.output
    assert lines[-1].startswith("2 stored numbers are no longer valid")


def test_check_phones_reads_in_chunks_and_by_business(business, make_business, make_customer):
    """Chunks of one row still find every number; `--business` limits the list."""
    other = make_business("Other Salon")
    ids = {make_customer(phone=f"+44791190012{n}").id for n in range(3)}
    make_customer(other, phone=DRAMA)
    assert {r.customer_id for r in retired_phones(business.id, chunk=1)} == ids
    assert len(list(retired_phones(chunk=2))) == 4


def test_check_phones_when_all_are_valid(app, make_customer):
    """Nothing to list: one line says so."""
    make_customer(phone="+447911123456")
    result = app.test_cli_runner().invoke(args=["check-phones"])
    assert result.output.strip() == "Every stored phone number is still valid."
    assert app.test_cli_runner().invoke(args=["check-phones", "--business", "Nope"]).exit_code != 0
