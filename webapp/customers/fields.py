"""Per-field rules of a customer record: normalizing and checking each value on its own."""

import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from rapidfuzz import fuzz

from webapp.errors import Invalid
from webapp.models import Business
from webapp.models.customer import SOURCES
from webapp.text import fold

# The plain fields a create or edit may set, in the order a form shows them.
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "company",
    "address",
    "notes",
    "source",
    "custom_field_value",
)
TEXT_FIELDS = ("first_name", "last_name", "company", "address", "notes", "custom_field_value")
MAX_LENGTHS = {
    "first_name": 255,
    "last_name": 255,
    "email": 255,
    "company": 255,
    "custom_field_value": 255,
    "address": 1000,
    "notes": 1000,
}
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
        raise Invalid("email", "Use at most 255 characters for the email.")
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid("email", "That is not a valid email address, e.g. name@example.com.") from None
    return value


def business_today(business: Business) -> date:
    """Today's date where the business is."""
    return datetime.now(ZoneInfo(business.timezone or "UTC")).date()


def check_birth_date(value: date | None, business: Business) -> date | None:
    """A real past date, not before 1900."""
    if value is None:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise Invalid("date_of_birth", "Give the date of birth as a date, e.g. 1985-04-23.")
    if value > business_today(business):
        raise Invalid("date_of_birth", "The date of birth cannot be in the future.")
    if value < EARLIEST_BIRTH_DATE:
        raise Invalid("date_of_birth", "The date of birth cannot be before 1900.")
    return value


def check_text(field: str, raw: str | None) -> str:
    """A trimmed text value within its length limit."""
    value = clean_text(raw)
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        raise Invalid(
            field, f"Use at most {limit} characters for {LABELS[field].lower()} ({len(value)} now)."
        )
    return value


def check_label(raw: str | None) -> str:
    """A placeholder's label ("Walk-in 14:30", "Red coat"), at most 80 characters."""
    value = clean_text(raw)
    if len(value) > 80:
        raise Invalid("dummy_label", "Use at most 80 characters for the label.")
    return value


def check_source(raw: str | None) -> str:
    """One of the known sources (blank means "other")."""
    value = clean_text(raw) or "other"
    if value not in SOURCES:
        raise Invalid("source", f"Choose a source from the list: {', '.join(SOURCES)}.")
    return value


def names_similar(a: str, b: str) -> bool:
    """True for the same name up to accents and case, or a one- or two-letter slip."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return False
    # rapidfuzz's Indel ratio (0-100); 85 is the 0.85 of the difflib ratio used before.
    return fa == fb or fuzz.ratio(fa, fb, score_cutoff=85) >= 85
