"""`GET /api/v1/merchant/calendar/customers?q=`: the picker's matches as JSON for the booking calendar."""

from flask import g, request

from webapp.api import bp
from webapp.customers.criteria import parse_criteria
from webapp.customers.search import find_customers

TOP = 10


@bp.get("/calendar/customers")
def calendar_customers():
    """The best matches for `q` (top 10, or `limit` up to 50), with what the calendar shows on a row."""
    criteria = parse_criteria(request.args, g.business.timezone, default_limit=TOP)
    criteria.limit = min(criteria.limit, 50)
    results = find_customers(g.business, criteria, with_count=False) if criteria.q else None
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
