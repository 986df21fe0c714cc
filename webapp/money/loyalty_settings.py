"""The business's loyalty rate (owner): points earned per whole currency unit, a point's value."""

from __future__ import annotations

import re

from webapp.audit import record
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business, StaffUser
from webapp.money.amounts import parse_amount

MAX_POINTS_PER_UNIT = 1000
MAX_POINT_VALUE = 100_000  # minor units: one point worth £1,000 is already absurd


def parse_rate(text: str | None) -> int:
    """Points per unit as typed: a whole number from 0 (no points earned) to 1,000."""
    text = (text or "").strip()
    if not re.fullmatch(r"\d{1,6}", text) or int(text) > MAX_POINTS_PER_UNIT:
        raise Invalid("points_per_unit", f"Use a whole number from 0 to {MAX_POINTS_PER_UNIT:,}.")
    return int(text)


def parse_loyalty(points_per_unit: str | None, point_value: str | None, currency: str) -> dict:
    """The loyalty form's two typed values as `update_loyalty` takes them; Invalid with every problem."""
    values, problems = {}, {}
    try:
        values["points_per_unit"] = parse_rate(points_per_unit)
    except Invalid as e:
        problems.update(e.problems)
    try:
        values["point_value_minor"] = parse_amount(
            point_value, field="point_value", currency=currency, allow_zero=True, maximum=MAX_POINT_VALUE
        )
    except Invalid as e:
        problems.update(e.problems)
    if problems:
        raise Invalid(problems)
    return values


def update_loyalty(
    business: Business, *, points_per_unit: int, point_value_minor: int, actor: StaffUser
) -> None:
    """Set the loyalty rate; sales already recorded keep the points they earned. Caller commits."""
    if isinstance(points_per_unit, bool) or not isinstance(points_per_unit, int):
        raise Invalid("points_per_unit", "Use a whole number.")
    if not 0 <= points_per_unit <= MAX_POINTS_PER_UNIT:
        raise Invalid("points_per_unit", f"Use a whole number from 0 to {MAX_POINTS_PER_UNIT:,}.")
    if isinstance(point_value_minor, bool) or not isinstance(point_value_minor, int):
        raise Invalid("point_value", "Type the value as an amount, like 0.10.")
    if not 0 <= point_value_minor <= MAX_POINT_VALUE:
        raise Invalid("point_value", "Use an amount from 0 up to 1,000.00.")
    changed = {
        name: [getattr(business, name), value]
        for name, value in (("points_per_unit", points_per_unit), ("point_value_minor", point_value_minor))
        if getattr(business, name) != value
    }
    business.points_per_unit, business.point_value_minor = points_per_unit, point_value_minor
    if changed:
        record(actor, "business.loyalty_updated", business_id=business.id, **changed)
    db.session.flush()
