"""Field rules for a customer record: normalizing and checking each value on its own."""

import unicodedata
from datetime import date, datetime
from difflib import SequenceMatcher
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from webapp.errors import RuleBroken
from webapp.models import Business
from webapp.models.customer import SOURCES

MAX_LENGTHS = {
    "first_name": 255,
    "last_name": 255,
    "email": 255,
    "company": 255,
    "custom_field_value": 255,
    "address": 1000,
    "notes": 1000,
}
MAX_PHONE_INPUT = 32
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "company": "Company",
    "custom_field_value": "Custom field",
    "address": "Address",
    "notes": "Notes",
}


def clean_text(raw: str | None) -> str:
    """Trim a text value and compose its accents (NFC), so "José" is stored one way; None becomes ""."""
    return unicodedata.normalize("NFC", raw or "").strip()


def normalize_email(raw: str | None) -> str | None:
    """Trimmed and lower-cased, for uniqueness; None when blank."""
    value = clean_text(raw)
    return value.lower() or None


def check_email(raw: str | None) -> str | None:
    """The email as typed (trimmed) when it is syntactically valid; None when blank."""
    value = clean_text(raw)
    if not value:
        return None
    if len(value) > MAX_LENGTHS["email"]:
        raise RuleBroken("email", "Use at most 255 characters for the email.")
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise RuleBroken("email", "That is not a valid email address, e.g. name@example.com.") from None
    return value


def normalize_phone(raw: str | None, region: str) -> str | None:
    """The number in E.164 (read with `region` when it has no country code); None when blank."""
    value = clean_text(raw)
    if not value:
        return None
    if len(value) > MAX_PHONE_INPUT:
        raise RuleBroken("phone", f"Use at most {MAX_PHONE_INPUT} characters for the phone number.")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise RuleBroken("phone", "That is not a phone number. Type it as the customer gave it.") from None
    if not phonenumbers.is_valid_number(number):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        hint = (
            f" e.g. {phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)}"
            if example
            else ""
        )
        raise RuleBroken(
            "phone", f"That is not a valid number for {region}. Check the digits{hint} or add +country code."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def business_today(business: Business) -> date:
    """Today's date where the business is."""
    return datetime.now(ZoneInfo(business.timezone or "UTC")).date()


def check_birth_date(value: date | None, business: Business) -> date | None:
    """A real past date, not before 1900."""
    if value is None:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise RuleBroken("date_of_birth", "Give the date of birth as a date, e.g. 1985-04-23.")
    if value > business_today(business):
        raise RuleBroken("date_of_birth", "The date of birth cannot be in the future.")
    if value < EARLIEST_BIRTH_DATE:
        raise RuleBroken("date_of_birth", "The date of birth cannot be before 1900.")
    return value


def check_text(field: str, raw: str | None) -> str:
    """A trimmed text value within its length limit."""
    value = clean_text(raw)
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        raise RuleBroken(
            field, f"Use at most {limit} characters for {LABELS[field].lower()} ({len(value)} now)."
        )
    return value


def check_label(raw: str | None) -> str:
    """A placeholder's label ("Walk-in 14:30", "Red coat"), at most 80 characters."""
    value = clean_text(raw)
    if len(value) > 80:
        raise RuleBroken("dummy_label", "Use at most 80 characters for the label.")
    return value


def check_source(raw: str | None) -> str:
    """One of the known sources (blank means "other")."""
    value = clean_text(raw) or "other"
    if value not in SOURCES:
        raise RuleBroken("source", f"Choose a source from the list: {', '.join(SOURCES)}.")
    return value


def fold(text: str) -> str:
    """Accent- and case-insensitive form of a name: "Zoë  O'Brien" -> "zoe o'brien"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("đ", "d").replace("ø", "o").replace("ł", "l").split())


def names_similar(a: str, b: str) -> bool:
    """True for the same name up to accents and case, or a one- or two-letter slip."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return False
    return fa == fb or SequenceMatcher(None, fa, fb).ratio() >= 0.85
