"""The customer list and search screen (`/customers`): active search, filters, sort and pages."""

from flask import g, request, url_for
from sqlalchemy import select

from webapp.customers import bp
from webapp.extensions import db
from webapp.formatting import money_cell
from webapp.htmx import page_or_block, wants_fragment
from webapp.models import Location, MarketingPreference, Tag
from webapp.search import read_criteria, search_criteria
from webapp.search.criteria import MONTHS, SORT_NAMES

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


# The marketing filter's answer and dates: they narrow the list only once a preference is chosen.
CONSENT_DETAILS = ("consent", "consent_from", "consent_to")


@bp.get("/customers")
def search():
    """Search and list customers; an htmx request gets only the results."""
    criteria = read_criteria(request.args, g.business.timezone)
    results = search_criteria(g.business, criteria)
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
        money_cell=money_cell(),
        fragment=fragment,
        choices=None if fragment else filter_choices(),
        sort_labels=SORT_LABELS,
        sort_names=SORT_NAMES,
        months=MONTHS,
    )


def carried_args() -> dict:
    """The request's filters, to keep in pagination and sort links (page itself excluded); a default
    or a value that narrows nothing is left out (the consent answer and dates need a preference)."""
    out = {}
    preference = any(v.strip() for v in request.args.getlist("consent_preference"))
    for key in FILTER_KEYS:
        if key in CONSENT_DETAILS and not preference:
            continue
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
