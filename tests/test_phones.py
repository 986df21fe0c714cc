"""The one phone module: strict normalizing to E.164, the lenient lookup, national digits, display."""

import pytest

from webapp import phones
from webapp.errors import Invalid


@pytest.mark.parametrize("raw", ["07911 123456", "+44 7911 123456", "0044 7911 123456", "(07911) 123-456"])
def test_normalize_any_format_to_e164(raw):
    assert phones.normalize_phone(raw, "GB") == "+447911123456"


@pytest.mark.parametrize("raw", ["abc", "123", "07911 12345", "0" * 33])
def test_normalize_rejects_on_the_given_field(raw):
    with pytest.raises(Invalid) as e:
        phones.normalize_phone(raw, "GB", field="mobile")
    assert e.value.field == "mobile" and set(e.value.problems) == {"mobile"}


def test_lenient_lookup_is_the_same_normalizer_without_errors():
    assert phones.e164_or_none(" 0412 345 678 ", "AU") == "+61412345678"
    assert phones.e164_or_none("07911 12345", "GB") is None
    assert phones.e164_or_none(None, "GB") is None and phones.e164_or_none("  ", "GB") is None


def test_national_digits_and_display():
    assert phones.national_digits("+61412345678") == "412345678"
    assert phones.national_digits(None) is None
    assert phones.phone_text("+447911123456", "GB") == "07911 123456"
    assert phones.phone_text("+447911123456", "AU") == "+44 7911 123456"
    assert phones.phone_text("not a number", "GB") == "not a number"


def test_formatting_and_search_keys_read_the_phone_module():
    from webapp import formatting
    from webapp.models import search_keys

    assert formatting.stored_number is phones.stored_number
    assert search_keys.national_digits is phones.national_digits
