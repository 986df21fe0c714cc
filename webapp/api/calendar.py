"""`GET /api/v1/merchant/calendar/customers?q=`: the picker's matches as JSON for the booking calendar."""

from flask import g, request

from webapp.api.registry import operation
from webapp.search import read_criteria, search_customers

TOP = 10


@operation(
    "GET",
    "/calendar/customers",
    summary="The picker's matches for the booking calendar",
    tag="calendar",
)
def calendar_customers():
    """The best matches for `q` (top 10, or `limit` up to 50), with what the calendar shows on a row."""
    criteria = read_criteria(request.args, g.business.timezone, default_limit=TOP)
    sort, limit = (criteria.sort if criteria.sort_given else None), min(criteria.limit, 50)
    results = None
    if criteria.q:
        results = search_customers(g.business, criteria.q, criteria, sort, criteria.page, limit, False)
    customers = results.customers if results else []
    return {
        "query": criteria.q,
        "customers": [calendar_row(c, results.tags.get(c.id, [])) for c in customers],
        "has_more": bool(results and results.has_next),
        "warnings": criteria.problems,
    }


def calendar_row(c, tags) -> dict:
    """One customer as the calendar needs it."""
    return {
        "id": str(c.id),
        "name": c.display_name,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "company": c.company,
        "is_dummy": c.is_dummy,
        "anonymized": c.anonymized_at is not None,
        "restriction": c.restriction,
        "blacklisted": c.restriction == "block",
        "blacklist_reason": c.blacklist_reason if c.restriction else "",
        "tags": [t.name for t in tags],
        "total_bookings": c.total_bookings,
        "no_shows": c.no_shows,
        "last_visit_at": c.last_visit_at.isoformat() if c.last_visit_at else None,
    }
