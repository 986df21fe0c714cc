"""The one phone module: read a typed number into E.164, its national digits, and show it to people.

Stored phones are E.164, written by `normalize_phone` (the one normalizer: strict, a valid number for
the business's region or with its country code). Everything else reads those stored values.
"""

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from webapp.errors import Invalid

MAX_PHONE_INPUT = 32
COUNTRY_CODES = {str(code) for code in COUNTRY_CODE_TO_REGION_CODE}
NOT_DIGIT = re.compile(r"\D+")


# --- reading what people type ----------------------------------------------------------------------


def normalize_phone(raw: str | None, region: str, field: str = "phone") -> str | None:
    """The number in E.164 (read with `region` when it has no country code); None when blank.
    Raises Invalid on `field` for text that is not a valid number."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > MAX_PHONE_INPUT:
        raise Invalid(field, f"Use at most {MAX_PHONE_INPUT} characters for the phone number.")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise Invalid(field, "That is not a phone number. Type it as the customer gave it.") from None
    if not phonenumbers.is_valid_number(number):
        hint = example(region)
        raise Invalid(
            field, f"That is not a valid number for {region}. Check the digits{hint} or add +country code."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_changed_phone(
    raw: str | None, region: str, stored: str | None, field: str = "phone"
) -> str | None:
    """`normalize_phone` for an edit: the number already stored is kept as it is when the typed one is
    the same number (read leniently), even if newer metadata no longer calls it valid (07911 9xxxxx):
    a number is re-checked only when someone changes it."""
    if stored and same_number(raw, stored, region):
        return stored
    return normalize_phone(raw, region, field)


def same_number(raw: str | None, stored: str, region: str) -> bool:
    """True when `raw`, however formatted, is the stored E.164 number (no validity check)."""
    value = (raw or "").strip()
    if not value or len(value) > MAX_PHONE_INPUT:
        return False
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == stored


def stored_number_is_valid(e164: str) -> bool:
    """Whether the current metadata still accepts a stored number (`flask check-phones`)."""
    number = stored_number(e164)
    return number is not None and phonenumbers.is_valid_number(number)


def e164_or_none(raw: str | None, region: str) -> str | None:
    """`normalize_phone`, with None instead of an error: for looking a number up as it is being typed
    (every stored phone passed `normalize_phone`, so a number it rejects matches nothing anyway)."""
    try:
        return normalize_phone(raw, region)
    except Invalid:
        return None


def example(region: str) -> str:
    """ " e.g. 07400 123456": a mobile number of the region as people write it, or "" if none is known."""
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return ""
    return f" e.g. {phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)}"


# --- reading stored numbers ------------------------------------------------------------------------


def national_digits(e164: str | None) -> str | None:
    """The national significant number of an E.164 phone ("+61412345678" -> "412345678")."""
    if not e164:
        return None
    digits = NOT_DIGIT.sub("", e164)
    for size in (1, 2, 3):  # country calling codes are prefix-free
        if digits[:size] in COUNTRY_CODES:
            return digits[size:]
    return digits


def stored_number(e164: str) -> phonenumbers.PhoneNumber | None:
    """A stored number as phonenumbers' object. Stored numbers are E.164 (`normalize_phone` wrote
    them from a parse), so one is built straight from its digits: `parse` reads free text and
    validates it, as long as the formatting itself. Anything else is parsed."""
    digits = e164[1:]
    if e164.startswith("+") and digits.isdigit() and digits.isascii() and digits[0] != "0":
        for size in (1, 2, 3):  # country calling codes are prefix-free
            if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
                return national_number(int(digits[:size]), digits[size:])
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None


def national_number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    """The object `parse` gives for an E.164 number, leading zeros (Italy's 06 …) included."""
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn or "0"))
    if len(nsn) > 1 and nsn[0] == "0":
        number.italian_leading_zero = True
        zeros = len(nsn) - len(nsn.lstrip("0"))
        zeros = min(zeros, len(nsn) - 1)  # all zeros: the last one is the number itself
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


# --- showing ---------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def phone_text(e164: str, region: str | None) -> str:
    """A stored number as people read it: nationally for the business's own region, internationally
    otherwise. Remembered: a desk meets the same regulars all day, and a results page shows thirty."""
    number = stored_number(e164)
    if number is None:
        return e164
    # Same country code, not same region: +44 7911… is Guernsey's range but dialled as a UK number.
    home = phonenumbers.country_code_for_region(region) if region else None
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home and number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
