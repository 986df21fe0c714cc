"""Typed amounts to minor units (webapp/money/amounts.py): what is read, what is refused and how."""

import pytest

from webapp.errors import Invalid
from webapp.money.amounts import MAXIMUM, parse_amount, parse_minor


@pytest.mark.parametrize(
    ("typed", "minor"),
    [
        ("12.50", 1250),
        ("12.5", 1250),
        ("12", 1200),
        (" 12.50 ", 1250),
        ("£12.50", 1250),
        ("12.50 GBP", 1250),
        ("1,250.00", 125000),
        (".5", 50),
        ("12.500", 1250),
        ("0.01", 1),
        (12, 1200),
        ("1000000", MAXIMUM),
    ],
)
def test_typed_amounts_become_minor_units(typed, minor):
    """Pounds and pence as a person types them; an int from a form is whole pounds."""
    assert parse_amount(typed) == minor


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("-5", "more than zero"),
        ("abc", "as a number"),
        ("12.345", "at most 2 decimal places"),
        ("1e9999", "as a number"),
        ("99999999999999", "too large"),
        ("1000000.01", "too large"),
        ("", "Enter an amount"),
        (None, "Enter an amount"),
        ("   ", "Enter an amount"),
        ("0", "more than zero"),
        ("0.00", "more than zero"),
        ("NaN", "as a number"),
        ("Infinity", "as a number"),
        ("12,34", "as a number"),
        ("1.2.3", "as a number"),
        ("--5", "as a number"),
        ("9" * 500, "too large"),
        (True, "as a number"),
    ],
)
def test_bad_amounts_are_refused_on_their_field(typed, words):
    """Each bad amount of the issue is a clear message on the field named, never a crash."""
    with pytest.raises(Invalid) as caught:
        parse_amount(typed, field="amount")
    assert caught.value.field == "amount"
    assert words in caught.value.message


def test_the_maximum_is_named_in_the_currency():
    with pytest.raises(Invalid, match=r"£1,000,000\.00"):
        parse_amount("99999999999999")


def test_negatives_and_zero_only_when_allowed():
    assert parse_amount("-5", allow_negative=True) == -500
    assert parse_amount("-£5.25", allow_negative=True) == -525
    assert parse_amount("0", allow_zero=True) == 0
    with pytest.raises(Invalid, match="too large"):
        parse_amount("-99999999999999", allow_negative=True)


def test_a_lower_maximum_is_respected():
    assert parse_amount("10", maximum=1000) == 1000
    with pytest.raises(Invalid, match=r"£10\.00"):
        parse_amount("10.01", maximum=1000)


def test_a_currency_without_decimals():
    """Yen have no minor unit: "1500" is 1500, "12.5" is refused."""
    assert parse_amount("1500", currency="JPY") == 1500
    with pytest.raises(Invalid, match="no decimal places"):
        parse_amount("12.5", currency="JPY")


def test_minor_units_from_the_api():
    assert parse_minor(1250) == 1250
    assert parse_minor("1250") == 1250
    assert parse_minor(-300, allow_negative=True) == -300
    for bad in (12.5, True, "12.50", "abc", None, [1]):
        with pytest.raises(Invalid) as caught:
            parse_minor(bad, field="amount")
        assert caught.value.field == "amount"
    for bad, words in ((0, "more than zero"), (-5, "more than zero"), (99999999999999, "too large")):
        with pytest.raises(Invalid, match=words):
            parse_minor(bad)


def test_amounts_go_back_into_forms_as_typed():
    from webapp.money.amounts import as_typed

    assert [as_typed(v) for v in (1250, 5, 0, -300, 100_000_000)] == [
        "12.50",
        "0.05",
        "0.00",
        "-3.00",
        "1000000.00",
    ]
    assert as_typed(1500, "JPY") == "1500"
    assert all(parse_amount(as_typed(v)) == v for v in (1, 99, 12345, 100_000_000))
