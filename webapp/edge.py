"""The request edge every feature's views share: tenant-scoped loaders, safe redirects, pages, error display.

A view reads its request through these helpers instead of writing its own copy: a foreign or malformed
id is always the same 404, a `next` is always checked the same strict way, a page always knows whether
another follows from one extra row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from flask import abort, g, request, url_for
from markupsafe import Markup
from sqlalchemy import Select

from webapp.errors import DomainError, Invalid
from webapp.extensions import db
from webapp.text import has_control_characters

M = TypeVar("M")


# --- tenant-scoped loaders -------------------------------------------------------------------------


def parse_id(raw: Any, kind: type = uuid.UUID):
    """`raw` as a key of `kind` (UUID or int), or None when it cannot be one."""
    if isinstance(raw, kind) and not isinstance(raw, bool):
        return raw
    try:
        if kind is int:
            value = int(str(raw))
            return value if 0 < value < 2**63 else None
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


def owned(model: type[M], raw_id: Any, business_id: int | None = None, *, options=()) -> M | None:
    """The row of `model` with this id in the business (the signed-in one by default), else None."""
    kind = int if model.__table__.c.id.type.python_type is int else uuid.UUID
    key = parse_id(raw_id, kind)
    if key is None:
        return None
    row = db.session.get(model, key, options=list(options))
    bid = business_id if business_id is not None else g.business.id
    if row is None or row.business_id != bid:
        return None
    return row


def owned_or_404(model: type[M], raw_id: Any, business_id: int | None = None, *, options=()) -> M:
    """The row of `model` with this id in the signed-in user's business, or 404 (a foreign id too)."""
    row = owned(model, raw_id, business_id, options=options)
    if row is None:
        abort(404)
    return row


def customer_or_404(customer_id: Any, *, options=()):
    """The customer with this id in the signed-in user's business, or 404."""
    from webapp.models import Customer

    return owned_or_404(Customer, customer_id, options=options)


# --- redirects -------------------------------------------------------------------------------------


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects, whatever the encoding)."""
    if not target or len(target) > 2000:
        return None
    if target != unquote(target) and safe_next(unquote(target)) is None:
        return None
    if any(c in target for c in "\\") or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# --- pages -----------------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of rows, and whether another follows (found by fetching one row more than shown)."""

    items: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def page_of(statement: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    """Run `statement` for page `page` (1-based) of `per_page` rows, one row more to know of a next."""
    page = max(1, page)
    stmt = statement.limit(per_page + 1).offset((page - 1) * per_page)
    rows = list(db.session.scalars(stmt) if scalars else db.session.execute(stmt))
    return Page(rows[:per_page], page, per_page, len(rows) > per_page)


def page_number(raw: Any, maximum: int = 100_000) -> int:
    """A page number from a query string: 1 for anything that is not a whole number in range."""
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= maximum else 1


# --- links -----------------------------------------------------------------------------------------


def customer_url(customer) -> str:
    """The customer's profile."""
    return url_for("customers.profile", customer_id=customer.id)


def customer_link(customer) -> Markup:
    """A link to a customer's profile, the name escaped."""
    link = Markup('<a href="{}">{}</a>').format(customer_url(customer), customer.display_name)
    return link + Markup(" (walk-in placeholder)") if customer.is_dummy else link


# --- showing domain errors on forms ----------------------------------------------------------------


def show_errors(form, error: DomainError, *, aliases: dict[str, str] | None = None) -> None:
    """Put each problem of a domain error on the form field it concerns, or above the form."""
    problems = error.problems if isinstance(error, Invalid) else {error.field: error.message}
    for field, message in problems.items():
        name = (aliases or {}).get(field, field) if field else None
        if name and name in form:
            form[name].errors = list(form[name].errors or []) + [message]
        else:
            form.form_errors.append(message)


# --- values a column can hold ----------------------------------------------------------------------

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2200, 12, 31)


def int64(value: Any) -> int:
    """`int(value)` within a 64-bit column's range; ValueError otherwise (a `coerce` for int fields)."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = value if isinstance(value, int) else int(str(value).strip())
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError("out of range")
    return number


def day_arg(raw: Any, earliest: date = EARLIEST_DAY, latest: date = LATEST_DAY) -> date | None:
    """A YYYY-MM-DD query argument between `earliest` and `latest`, or None (absent, malformed, out of
    range: a day page for year 1 or 9999 would step past the calendar's ends)."""
    if not isinstance(raw, str) or len(raw) != 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if earliest <= day <= latest else None


def refuse_control_characters():
    """Before every request: a query string (or a form field's name) with a NUL or another control
    character is a 400 page. Form values are checked by the forms (`webapp.forms`), on their field."""
    names_and_values = [item for pair in request.args.items(multi=True) for item in pair]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        names_and_values.extend(request.form.keys())
    if any(has_control_characters(text) for text in names_and_values):
        abort(400)


MULTIPART_SLACK = 1024 * 1024  # a form's other fields and part headers around an uploaded file


def body_limit(setting: str, role: str):
    """Let a view take a request body up to the app setting `setting` (bytes, plus the form around the
    file) instead of MAX_CONTENT_LENGTH, for signed-in staff of `role` or above only (an upload)."""

    def mark(view):
        view.body_limit = (setting, role)
        return view

    return mark


def raise_body_limit():
    """Before anything reads the body: a view marked with `body_limit` gets its own, larger limit."""
    from flask import current_app
    from flask_login import current_user

    limit = getattr(current_app.view_functions.get(request.endpoint), "body_limit", None)
    if limit is None or request.method != "POST":
        return
    setting, role = limit
    allowed = current_app.config.get(setting)
    if allowed and current_user.is_authenticated and current_user.has_role(role):
        request.max_content_length = int(allowed) + MULTIPART_SLACK


def init_app(app) -> None:
    """Install the request guard (before the access check: it concerns anonymous requests too), and
    first of all hooks (before CSRF reads the form) the per-view body limits."""
    app.before_request_funcs.setdefault(None, []).insert(0, raise_body_limit)
    app.before_request(refuse_control_characters)
