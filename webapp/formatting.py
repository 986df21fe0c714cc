"""Show values the way a person reads them: local times, money, phone numbers."""

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import format_currency
from flask import Flask, g
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from webapp.models import Business


def business() -> Business | None:
    """The signed-in user's business, if any."""
    return g.get("business")


def locale_for(b: Business | None) -> str:
    """An English locale for the business's region (currency and date formats follow it)."""
    return f"en_{b.phone_region}" if b else "en_GB"


def money(minor: int | None, currency: str | None = None) -> str:
    """Minor units as the business's currency: 12345 -> £123.45."""
    b = business()
    currency = currency or (b.currency if b else "GBP")
    try:
        return format_currency((minor or 0) / 100, currency, locale=locale_for(b))
    except Exception:  # an unknown locale: fall back to a plain format
        return f"{currency} {(minor or 0) / 100:,.2f}"


def local(dt: datetime | None) -> datetime | None:
    """A UTC datetime in the business's timezone."""
    if dt is None:
        return None
    b = business()
    return dt.astimezone(ZoneInfo(b.timezone if b else "UTC"))


def datetime_format(dt: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
    """A UTC datetime shown in the business's timezone."""
    value = local(dt)
    return value.strftime(fmt) if value else ""


def date_format(d: date | datetime | None, fmt: str = "%-d %b %Y") -> str:
    """A date (or a UTC datetime's local date) for people."""
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = local(d)
    return d.strftime(fmt)


def phone_format(e164: str | None) -> str:
    """E.164 shown nationally for the business's own region, internationally otherwise."""
    if not e164:
        return ""
    b = business()
    return phone_text(e164, b.phone_region if b else None)


@lru_cache(maxsize=65536)
def phone_text(e164: str, region: str | None) -> str:
    """`phone_format` for one number and region, remembered: a desk meets the same regulars all day,
    and a page of search results shows thirty numbers."""
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


def stored_number(e164: str) -> phonenumbers.PhoneNumber | None:
    """A stored number as phonenumbers' object. Stored numbers are E.164 (the customer rules wrote
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


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(money)
    app.add_template_filter(datetime_format, "datetime")
    app.add_template_filter(date_format, "date")
    app.add_template_filter(phone_format, "phone")
    app.add_template_filter(local, "localtime")
    init_layout(app)


NAV = (
    ("Customers", "customers.search"),
    ("Bookings", "bookings.today"),
    ("Blacklist", "blacklist.index"),
    ("Duplicates", "merge.duplicates"),
    ("Settings", "settings.index"),
)


def nav_items() -> list[tuple[str, str]]:
    """The main navigation, limited to the screens that exist and the user's role allows."""
    from flask import current_app
    from flask_login import current_user

    from webapp.security import min_role_of

    return [
        (label, endpoint)
        for label, endpoint in NAV
        if endpoint in current_app.view_functions and current_user.has_role(min_role_of(endpoint))
    ]


def header_locations() -> list:
    """The active locations the header's switcher offers."""
    from flask_login import current_user
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Location

    return db.session.scalars(
        select(Location)
        .where(Location.business_id == current_user.business_id, Location.active)
        .order_by(Location.name)
    ).all()


def has_endpoint(endpoint: str) -> bool:
    """True when the app has this endpoint (screens that other features add)."""
    from flask import current_app

    return endpoint in current_app.view_functions


ROW_KEY = "__row_key__"


def url_maker(endpoint: str, key: str, **values):
    """`url_for(endpoint, key=value, **values)` for the many rows of a list: the URL is built once around
    a marker and each row's value spliced in. For ids (UUIDs, numbers), whose text needs no quoting."""
    from flask import url_for

    before, after = url_for(endpoint, **{key: ROW_KEY}, **values).split(ROW_KEY)
    return lambda value: f"{before}{value}{after}"


def init_layout(app: Flask) -> None:
    """Helpers the base layout calls."""
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        nav_items=nav_items, header_locations=header_locations, has_endpoint=has_endpoint, url_maker=url_maker
    )
