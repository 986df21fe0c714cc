"""`GET /api/v1/merchant/calendar/customers?q=`: the picker's matches as JSON for the booking calendar."""

from flask import g

from webapp.api.conventions import answer
from webapp.api.read_schemas import CalendarCustomer, CalendarCustomers, CalendarQuery
from webapp.api.registry import operation
from webapp.search import search_customers


@operation(
    "GET",
    "/calendar/customers",
    summary="The picker's matches for the booking calendar",
    tag="calendar",
    query=CalendarQuery,
    response=CalendarCustomers,
    errors=(422,),
)
def calendar_customers(query: CalendarQuery):
    """The best matches for `q` (top 10, or `limit` up to 50), with what the calendar shows on a row:
    the same search as the screens' picker. No `q`: no customers."""
    results = None
    if query.q and query.q.strip():
        results = search_customers(g.business, query.q, None, query.sort, query.page, query.limit, False)
    customers = results.customers if results else []
    return answer(
        CalendarCustomers(
            query=(query.q or "").strip(),
            customers=[calendar_row(c, results.tags.get(c.id, [])) for c in customers],
            has_more=bool(results and results.has_next),
        )
    )


def calendar_row(c, tags) -> CalendarCustomer:
    """One customer as the calendar needs it."""
    return CalendarCustomer(
        id=c.id,
        name=c.display_name,
        first_name=c.first_name,
        last_name=c.last_name,
        email=c.email,
        phone=c.phone,
        company=c.company,
        is_dummy=c.is_dummy,
        anonymized=c.anonymized_at is not None,
        restriction=c.restriction,
        blacklisted=c.restriction == "block",
        blacklist_reason=c.blacklist_reason if c.restriction else "",
        tags=[t.name for t in tags],
        total_bookings=c.total_bookings,
        no_shows=c.no_shows,
        last_visit_at=c.last_visit_at,
    )
