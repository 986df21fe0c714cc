"""GET /api/v1/merchant/customers/<id>/stats: the booking system's customer statistics, for the calendar."""

from webapp.api.conventions import answer, etag
from webapp.api.read_schemas import BOOKING_STATUSES, BookingsPage, CustomerStats, StatsBooking, StatsQuery
from webapp.api.registry import operation
from webapp.bookings.profile import count_upcoming, history_page
from webapp.edge import customer_or_404
from webapp.models import Booking, Customer, utcnow


def booking_fields(b: Booking) -> StatsBooking:
    """One booking of the history."""
    return StatsBooking(
        id=b.id,
        location_id=b.location_id,
        location=b.location.name,
        service=b.service,
        staff_name=b.staff_name,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        status=b.status,
        cancelled_by=b.cancelled_by,
        price=b.price,
        notes=b.notes,
    )


@operation(
    "GET",
    "/customers/<uuid:customer_id>/stats",
    summary="A customer's statistics and booking history",
    tag="customers",
    query=StatsQuery,
    response=CustomerStats,
    errors=(404, 422),
    headers={"ETag": "The customer's version, quoted (as on GET /customers/{id})."},
)
def customer_stats(customer_id, query: StatsQuery):
    """The customer's fields, flags, counters, live upcoming count and a page of booking history
    (`status` narrows it; `page` and `limit`, 1–200, page through it)."""
    customer = customer_or_404(customer_id)
    history = history_page(customer, {"status": query.status or "", "page": query.page}, size=query.limit)
    return answer(stats_of(customer, history, query.limit), 200, {"ETag": etag(customer.version)})


def stats_of(c: Customer, history, limit: int) -> CustomerStats:
    """The stats answer's body."""
    return CustomerStats(
        id=c.id,
        first_name=c.first_name,
        last_name=c.last_name,
        full_name=c.display_name,
        email=c.email,
        phone=c.phone,
        date_of_birth=c.date_of_birth,
        company=c.company,
        notes=c.notes,
        source=c.source,
        tags=[t.name for t in c.tags],
        created_at=c.created_at,
        updated_at=c.updated_at,
        is_dummy=c.is_dummy,
        is_blacklisted=c.is_blacklisted,
        blacklist_reason=c.blacklist_reason if c.restriction else "",
        blacklist_level=c.restriction,
        merged_into_id=c.merged_into_id,
        total_bookings=c.total_bookings,
        total_cancellations=c.cancellations_by_customer,
        cancellations_by_business=c.cancellations_by_business,
        no_shows=c.no_shows,
        completed_bookings=c.completed_bookings,
        upcoming_bookings=count_upcoming(c, utcnow()),
        first_visit_at=c.first_visit_at,
        last_visit_at=c.last_visit_at,
        total_spent=c.total_spent,
        average_spend=c.average_spend,
        bookings=[booking_fields(b) for b in history.bookings],
        bookings_page=BookingsPage(
            page=history.page,
            limit=limit,
            status=history.status or None,
            statuses=list(BOOKING_STATUSES),
            has_next=history.has_next,
        ),
    )
