"""Typed amounts to integer minor units: the one parser every money form and API field goes through.

A person types "12.50", "£12.50" or "1,250.00"; the API sends minor units as an integer (1250). Either
way the result is an int of minor units within bounds a 32-bit column holds (PostgreSQL's `integer`:
sale totals, ledger amounts and the customer's sums are that wide), or `Invalid(field, message)`.
Floats are never involved: "12.345" and "1e9999" are refused as typed, not rounded or overflowed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel.numbers import get_currency_precision, get_currency_symbol

from webapp.errors import Invalid
from webapp.formatting import money_formatter

# One million in the major unit (£1,000,000.00), as a booking's price: far above any sale at a desk,
# and a few hundred of them still fit the 32-bit sums kept on the customer.
MAXIMUM = 100_000_000
INT32_MAX = 2**31 - 1
MAX_TYPED_LENGTH = 32  # longer than any amount up to MAXIMUM with grouping and a symbol

NUMBER = re.compile(r"(?P<units>\d+)(?:\.(?P<fraction>\d*))?|\.(?P<fraction_only>\d+)")
GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")


@lru_cache(maxsize=64)
def places_of(currency: str) -> int:
    """How many decimal places the currency has (GBP 2, JPY 0)."""
    try:
        return get_currency_precision(currency)
    except Exception:  # an unknown code: the common case
        return 2


@lru_cache(maxsize=64)
def symbols_of(currency: str) -> tuple[str, ...]:
    """What a person may type before or after the number: the currency's code and symbols."""
    symbols = {currency.upper(), "£", "$", "€"}
    for locale in ("en_GB", "en_US"):
        try:
            symbols.add(get_currency_symbol(currency, locale=locale))
        except Exception:
            continue
    return tuple(sorted(symbols, key=len, reverse=True))


def take_sign(text: str) -> tuple[bool, str]:
    """Whether `text` starts with a minus, and the rest without its sign."""
    if text[:1] in ("+", "-", "\u2212"):
        return text[0] != "+", text[1:]
    return False, text


def shown(minor: int, currency: str) -> str:
    """An amount in minor units as the messages show it (£1,000,000.00)."""
    return money_formatter(currency, "en_GB")(minor)


def parse_amount(
    value: str | int | None,
    *,
    field: str = "total",
    currency: str = "GBP",
    allow_zero: bool = False,
    allow_negative: bool = False,
    maximum: int = MAXIMUM,
) -> int:
    """A typed amount in the major unit ("12.50", "£1,250", "-5" when negatives are allowed) as minor
    units (1250). An int is a whole number of the major unit (12 -> 1200). Refuses, with a message on
    `field`: blank, not a number (abc, 1e9999), more decimals than the currency has (12.345), zero or
    negative unless allowed, beyond `maximum` minor units in either direction."""
    if isinstance(value, bool):
        raise Invalid(field, "Type the amount as a number, like 12.50.")
    if isinstance(value, int):
        value = str(value)
    text = (value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        raise Invalid(field, "Enter an amount.")
    if len(text) > MAX_TYPED_LENGTH:
        raise Invalid(field, f"That amount is too large; the most is {shown(maximum, currency)}.")
    negative, text = take_sign(text)
    for symbol in symbols_of(currency):
        if text.startswith(symbol) or text.endswith(symbol):
            text = text[len(symbol) :] if text.startswith(symbol) else text[: -len(symbol)]
            break
    if not negative:
        negative, text = take_sign(text)
    if GROUPED.fullmatch(text):
        text = text.replace(",", "")
    match = NUMBER.fullmatch(text)
    if match is None:
        raise Invalid(field, "Type the amount as a number, like 12.50.")
    units, fraction = match["units"] or "0", match["fraction"] or match["fraction_only"] or ""
    places = places_of(currency)
    fraction = fraction.rstrip("0") if len(fraction) > places else fraction
    if len(fraction) > places:
        raise Invalid(
            field,
            "This currency has no decimal places; type a whole amount."
            if places == 0
            else f"Use at most {places} decimal places (12.50, not 12.345).",
        )
    minor = int(units) * 10**places + int(fraction.ljust(places, "0") or 0)
    return check_minor(-minor if negative else minor, field=field, currency=currency,
                       allow_zero=allow_zero, allow_negative=allow_negative, maximum=maximum)  # fmt: skip


def parse_minor(
    value: int | str | None,
    *,
    field: str = "total",
    currency: str = "GBP",
    allow_zero: bool = False,
    allow_negative: bool = False,
    maximum: int = MAXIMUM,
) -> int:
    """An amount already in minor units (the API's integers: 1250 for £12.50), with `parse_amount`'s
    bounds. A string of digits is accepted (a form's hidden field); a float, a bool or text is not."""
    if isinstance(value, bool) or isinstance(value, float):
        raise Invalid(field, "Send the amount as a whole number of minor units (1250 for 12.50).")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,20}", text):
            raise Invalid(field, "Send the amount as a whole number of minor units (1250 for 12.50).")
        value = int(text)
    if value is None:
        raise Invalid(field, "Enter an amount.")
    if not isinstance(value, int):
        raise Invalid(field, "Send the amount as a whole number of minor units (1250 for 12.50).")
    return check_minor(value, field=field, currency=currency, allow_zero=allow_zero,
                       allow_negative=allow_negative, maximum=maximum)  # fmt: skip


def check_minor(
    minor: int, *, field: str, currency: str, allow_zero: bool, allow_negative: bool, maximum: int
) -> int:
    """`minor` itself when it is within the bounds, else Invalid on `field`."""
    if minor == 0 and not allow_zero:
        raise Invalid(field, "The amount must be more than zero.")
    if minor < 0 and not allow_negative:
        raise Invalid(field, "The amount must be more than zero; a negative amount is not a sale or payment.")
    if abs(minor) > maximum:
        raise Invalid(field, f"That amount is too large; the most is {shown(maximum, currency)}.")
    return minor


def as_typed(minor: int, currency: str = "GBP") -> str:
    """Minor units as a person would type them back into a form: 1250 -> "12.50" (JPY 1500 -> "1500")."""
    places = places_of(currency)
    if places == 0:
        return str(minor)
    units, rest = divmod(abs(minor), 10**places)
    return f"{'-' if minor < 0 else ''}{units}.{rest:0{places}d}"
