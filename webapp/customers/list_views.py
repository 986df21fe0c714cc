"""The customer list and search screen (`/customers`): active search, filters, sort and pages."""

from functools import lru_cache

from flask import g, request, url_for
from sqlalchemy import select

from webapp.customers import bp
from webapp.customers.criteria import MONTHS, SORT_NAMES, parse_criteria
from webapp.customers.search import find_customers
from webapp.extensions import db
from webapp.formatting import locale_for, money
from webapp.htmx import page_or_block, wants_fragment
from webapp.models import Location, MarketingPreference, Tag

SORT_LABELS = {
    "name": "Name",
    "created": "Created",
    "updated": "Last updated",
    "last_visit": "Last visit",
    "total_bookings": "Total bookings",
    "total_spent": "Total spent",
    "points": "Points",
}
# Query-string keys the filter form and the pagination links carry.
FILTER_KEYS = (
    "q", "tag", "location", "blacklisted", "placeholders", "birth_month", "created_from", "created_to",
    "updated_from", "updated_to", "last_visit_from", "last_visit_to", "upcoming", "consent_preference",
    "consent", "consent_from", "consent_to", "sort", "limit",
)  # fmt: skip


@bp.get("/customers")
def search():
    """Search and list customers; an htmx request gets only the results."""
    criteria = parse_criteria(request.args, g.business.timezone)
    results = find_customers(g.business, criteria)
    fragment = wants_fragment()
    args = carried_args()
    # The address bar follows the search (Back and bookmarks work), without the form's empty fields.
    push = {
        "HX-Push-Url": url_for("customers.search", **args, page=criteria.page if criteria.page > 1 else None)
    }
    return page_or_block(
        "customers/search.html",
        "results",
        headers=push if fragment else None,
        c=criteria,
        results=results,
        args=args,
        money_cell=money_formatter(),
        fragment=fragment,
        choices=None if fragment else filter_choices(),
        sort_labels=SORT_LABELS,
        sort_names=SORT_NAMES,
        months=MONTHS,
    )


def money_formatter():
    """`money` for a whole column: babel works out the currency pattern once per currency and locale,
    not once per row (nor once per request)."""
    b = g.business
    return _money_formatter(b.currency, locale_for(b))


@lru_cache(maxsize=64)
def _money_formatter(currency: str, locale: str):
    sample = money(0, currency)
    at = sample.find("0.00")
    if at < 0:  # a currency without two decimals: keep the general filter
        return lambda minor: money(minor, currency)
    before, after = sample[:at], sample[at + 4 :]
    return lambda minor: f"{'-' if (minor or 0) < 0 else ''}{before}{abs(minor or 0) / 100:,.2f}{after}"


def carried_args() -> dict:
    """The request's filters, to keep in pagination and sort links (page itself excluded)."""
    out = {}
    for key in FILTER_KEYS:
        values = [v for v in request.args.getlist(key) if v.strip()]
        if (
            values
            and not (key == "limit" and values == ["30"])
            and not (key == "sort" and values == ["name"])
        ):
            out[key] = values
    return out


def filter_choices() -> dict:
    """Tags, locations and marketing preferences for the filter form (full page only)."""
    business_id = g.business.id
    return {
        "tags": db.session.scalars(
            select(Tag).where(Tag.business_id == business_id).order_by(Tag.name)
        ).all(),
        "locations": db.session.scalars(
            select(Location).where(Location.business_id == business_id).order_by(Location.name)
        ).all(),
        "preferences": db.session.scalars(
            select(MarketingPreference)
            .where(MarketingPreference.business_id == business_id)
            .order_by(MarketingPreference.name)
        ).all(),
    }
