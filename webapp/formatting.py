"""Show values the way a person reads them: local times, money, phone numbers."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import format_currency
from flask import Flask, g

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
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    b = business()
    # Same country code, not same region: +44 7911… is Guernsey's range but dialled as a UK number.
    home = phonenumbers.country_code_for_region(b.phone_region) if b else None
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home and number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


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
