"""Search keys: the accent-folded, lower-cased forms of names, phones and companies that search matches on."""

import re
import unicodedata

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

# Letters NFKD does not take apart.
FOLD_EXTRA = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i", "ħ": "h"}
)
APOSTROPHES = "'’`´"
COUNTRY_CODES = {str(code) for code in COUNTRY_CODE_TO_REGION_CODE}
NOT_DIGIT = re.compile(r"\D+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Sorts after every character a key holds: [prefix, prefix + TOP) is a prefix range, and TOP alone
# lies above every key (`fold` keeps letters, digits and spaces only).
TOP = "\U0010ffff"


def strip_accents(text: str) -> str:
    """Lower-case (casefold) without accents: "Zoë" -> "zoe", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(FOLD_EXTRA)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """A name key: no accents, lower case, apostrophes dropped, other punctuation a space, spaces single."""
    if not text:
        return ""
    out = []
    for ch in strip_accents(text):
        if ch.isalnum():
            out.append(ch)
        elif ch not in APOSTROPHES:
            out.append(" ")
    return " ".join("".join(out).split())


def fold_fragment(text: str) -> str:
    """A contains-fragment: no accents, lower case, apostrophes dropped, other punctuation kept."""
    return "".join(ch for ch in strip_accents(text) if ch not in APOSTROPHES and not ch.isspace())


def national_digits(e164: str | None) -> str | None:
    """The national significant number of an E.164 phone ("+61412345678" -> "412345678")."""
    if not e164:
        return None
    digits = NOT_DIGIT.sub("", e164)
    for size in (1, 2, 3):  # country calling codes are prefix-free
        if digits[:size] in COUNTRY_CODES:
            return digits[size:]
    return digits


def search_keys(first_name, last_name, dummy_label, email_normalized, phone, company) -> dict:
    """All search columns of one customer, from its stored fields."""
    name = fold(f"{first_name or ''} {last_name or ''}") or fold(dummy_label)
    reverse = fold(f"{last_name or ''} {first_name or ''}") or fold(dummy_label)
    digits = national_digits(phone)
    company_key = fold(company)
    text = " ".join(p for p in (name, (email_normalized or "").lower(), company_key, digits) if p)
    return {
        "search_name": name[:255],
        "search_name_rev": reverse[:255],
        "search_phone": digits,
        "search_company": company_key[:255],
        "search_text": text,
    }
