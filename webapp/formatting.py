"""Show values the way a person reads them: local times, money and numbers (Babel), phone numbers."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)
from flask import Flask, g

from webapp.models import Business
from webapp.phones import phone_text, stored_number  # noqa: F401  (the phone module; stored_number re-exported)
from webapp.text import counted


def business() -> Business | None:
    """The signed-in user's business, if any."""
    return g.get("business")


def locale_for(b: Business | None) -> str:
    """An English locale for the business's region (currency and date formats follow it)."""
    return f"en_{b.phone_region}" if b else "en_GB"


def money(minor: int | None, currency: str | None = None) -> str:
    """Minor units as Babel writes them in the business's currency: 12345 -> £123.45, ₹1,00,000.00."""
    return money_cell(currency)(minor)


def money_cell(currency: str | None = None) -> Callable[[int | None], str]:
    """`money` for a whole column (a list shows thirty): the formatter of the business's currency and
    locale, built once per process."""
    b = business()
    return money_formatter(currency or (b.currency if b else "GBP"), locale_for(b))


def number(value: int | None) -> str:
    """A whole number grouped as the business's locale groups it: 1,234 (1,00,000 in India)."""
    return number_formatter(locale_for(business()))(value or 0)


@lru_cache(maxsize=256)
def money_formatter(currency: str, locale: str) -> Callable[[int | None], str]:
    """Minor units -> Babel's text for `currency` in `locale`. Babel's own call costs some 0.1 ms; where
    the currency shows two decimals the pattern is spliced from Babel's output instead (checked
    against Babel on awkward values before it is trusted)."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):  # an unknown locale: a plain format
        return lambda minor: f"{currency} {(minor or 0) / 100:,.2f}"

    def slow(minor: int | None) -> str:
        return format_currency(Decimal(minor or 0) / 100, currency, locale=parsed)

    dec = get_decimal_symbol(parsed)
    plus, minus = slow(1), slow(-1)
    if f"0{dec}01" not in plus or f"0{dec}01" not in minus:  # not two decimals (e.g. JPY): Babel it is
        return slow
    before, after = plus.split(f"0{dec}01", 1)
    neg_before, neg_after = minus.split(f"0{dec}01", 1)
    grouping, sep = parsed.currency_formats["standard"].grouping, get_group_symbol(parsed)

    def fast(minor: int | None) -> str:
        minor = minor or 0
        units, cents = divmod(abs(minor), 100)
        body = f"{group_digits(str(units), grouping, sep)}{dec}{cents:02d}"
        return f"{neg_before}{body}{neg_after}" if minor < 0 else f"{before}{body}{after}"

    return fast if all(fast(v) == slow(v) for v in CHECK_VALUES) else slow


@lru_cache(maxsize=64)
def number_formatter(locale: str) -> Callable[[int], str]:
    """Whole numbers -> Babel's text in `locale`, spliced from its grouping like `money_formatter`."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return lambda value: f"{value:,}"
    grouping, sep = parsed.decimal_formats[None].grouping, get_group_symbol(parsed)
    minus = get_minus_sign_symbol(parsed)

    def fast(value: int) -> str:
        text = group_digits(str(abs(value)), grouping, sep)
        return f"{minus}{text}" if value < 0 else text

    def slow(value: int) -> str:
        return format_decimal(value, locale=parsed)

    return fast if all(fast(v) == slow(v) for v in CHECK_VALUES) else slow


# Values whose grouping goes wrong first when a locale groups differently (India's 1,00,000, the
# minimum grouping digits of Spanish, negatives, zero).
CHECK_VALUES = (0, 1, -1, 5, 99, 100, 999, 1000, 1234, 12345, 123456, 1234567, -1234567, 100000000, 12**12)


def group_digits(digits: str, grouping: tuple[int, int], sep: str) -> str:
    """`digits` split into groups from the right: the first of `grouping[0]`, the rest of `grouping[1]`."""
    first, rest = grouping
    if len(digits) <= first:
        return digits
    if first == rest == 3:  # the common case, at C speed
        grouped = f"{int(digits):,}"
        return grouped if sep == "," else grouped.replace(",", sep)
    head, parts = digits[:-first], [digits[-first:]]
    while len(head) > rest:
        head, part = head[:-rest], head[-rest:]
        parts.append(part)
    parts.append(head)
    return sep.join(reversed(parts))


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


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(money)
    app.add_template_filter(number)
    app.add_template_filter(datetime_format, "datetime")
    app.add_template_filter(date_format, "date")
    app.add_template_filter(phone_format, "phone")
    app.add_template_filter(local, "localtime")
    app.add_template_filter(counted)  # "1 possible duplicate", "2 possible duplicates"
    init_layout(app)


NAV = (
    ("Customers", "customers.search"),
    ("Bookings", "bookings.today"),
    ("Blacklist", "blacklist.index"),
    ("Duplicates", "merge.duplicates"),
    ("Settings", "settings.index"),
)


def nav_items() -> list[tuple[str, str, bool]]:
    """The main navigation, limited to the screens that exist and the user's role allows: (label, URL,
    current). A section is current on every page under its path (`/settings/activity` is Settings,
    whichever feature serves it)."""
    from flask import current_app, request, url_for
    from flask_login import current_user

    from webapp.security import min_role_of

    items = []
    for label, endpoint in NAV:
        if endpoint in current_app.view_functions and current_user.has_role(min_role_of(endpoint)):
            url = url_for(endpoint)
            section = "/" + url.strip("/").split("/")[0]
            items.append((label, url, request.path == section or request.path.startswith(section + "/")))
    return items


def header_locations(business_id: int) -> list:
    """The active locations the header's switcher offers."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Location

    return db.session.scalars(
        select(Location).where(Location.business_id == business_id, Location.active).order_by(Location.name)
    ).all()


def give_header(sender: Flask, template, context: dict, **extra) -> None:
    """Before a whole page renders for a signed-in user: what its header shows, loaded here so the
    template calls nothing that queries. Fragments (blocks, partials) have no header and load nothing."""
    from flask_login import current_user

    if "header_locations" in context or not current_user.is_authenticated:
        return
    if template.name and extends_base(sender.jinja_env, template.name):
        context["header_locations"] = header_locations(current_user.business_id)


LAYOUT_OF: dict[str, bool] = {}  # template name -> whether it extends base.html (templates/ is fixed)


def extends_base(env, name: str) -> bool:
    """True when template `name` is base.html or extends it, through any chain of layouts."""
    if name not in LAYOUT_OF:
        LAYOUT_OF[name] = reaches_base(env, name)
    return LAYOUT_OF[name]


def reaches_base(env, name: str) -> bool:
    """Follow `{% extends %}` from template `name` to see whether it arrives at base.html."""
    from jinja2 import nodes

    seen = set()
    while name and name not in seen:
        if name == "base.html":
            return True
        seen.add(name)
        source = env.loader.get_source(env, name)[0]
        parent = env.parse(source).find(nodes.Extends)
        name = parent.template.value if parent and isinstance(parent.template, nodes.Const) else None
    return False


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
    from flask import before_render_template

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(nav_items=nav_items, has_endpoint=has_endpoint, url_maker=url_maker)
    before_render_template.connect(give_header, app)
