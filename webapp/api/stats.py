"""GET /api/v1/merchant/customers/<id>/stats: the booking system's customer statistics, for the calendar."""

from flask import request

from webapp.api.conventions import etag
from webapp.api.registry import operation
from webapp.bookings.profile import STATUS_FILTERS, count_upcoming, history_page
from webapp.edge import customer_or_404
from webapp.models import Booking, Customer, utcnow

MAX_LIMIT = 200


def iso(value) -> str | None:
    """A UTC timestamp or date as ISO 8601 (None stays None)."""
    return value.isoformat() if value is not None else None


def customer_fields(c: Customer) -> dict:
    """The customer's own fields as the calendar reads them."""
    return {
        "id": str(c.id),
        "first_name": c.first_name,
        "last_name": c.last_name,
        "full_name": c.display_name,
        "email": c.email,
        "phone": c.phone,
        "date_of_birth": iso(c.date_of_birth),
        "company": c.company,
        "notes": c.notes,
        "source": c.source,
        "tags": [t.name for t in c.tags],
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def booking_fields(b: Booking) -> dict:
    """One booking of the history."""
    return {
        "id": str(b.id),
        "location_id": b.location_id,
        "location": b.location.name,
        "service": b.service,
        "staff_name": b.staff_name,
        "starts_at": iso(b.starts_at),
        "ends_at": iso(b.ends_at),
        "status": b.status,
        "cancelled_by": b.cancelled_by,
        "price": b.price,
        "notes": b.notes,
    }


@operation(
    "GET",
    "/customers/<uuid:customer_id>/stats",
    summary="A customer's statistics and booking history",
    tag="customers",
    errors=(404,),
    headers={"ETag": "The customer's version, quoted (as on GET /customers/{id})."},
)
def customer_stats(customer_id):
    """The customer's fields, flags, counters, live upcoming count and a page of booking history."""
    customer = customer_or_404(customer_id)
    try:
        limit = max(1, min(int(request.args.get("limit", 50)), MAX_LIMIT))
    except ValueError:
        limit = 50
    history = history_page(customer, request.args, size=limit)
    return stats_of(customer, history, limit), 200, {"ETag": etag(customer.version)}


def stats_of(customer: Customer, history, limit: int) -> dict:
    """The stats answer's body."""
    return {
        **customer_fields(customer),
        "is_dummy": customer.is_dummy,
        "is_blacklisted": customer.is_blacklisted,
        "blacklist_reason": customer.blacklist_reason if customer.restriction else "",
        "blacklist_level": customer.restriction,
        "merged_into_id": str(customer.merged_into_id) if customer.merged_into_id else None,
        "total_bookings": customer.total_bookings,
        "total_cancellations": customer.cancellations_by_customer,
        "cancellations_by_business": customer.cancellations_by_business,
        "no_shows": customer.no_shows,
        "completed_bookings": customer.completed_bookings,
        "upcoming_bookings": count_upcoming(customer, utcnow()),
        "first_visit_at": iso(customer.first_visit_at),
        "last_visit_at": iso(customer.last_visit_at),
        "total_spent": customer.total_spent,
        "average_spend": customer.average_spend,
        "bookings": [booking_fields(b) for b in history.bookings],
        "bookings_page": {
            "page": history.page,
            "limit": limit,
            "status": history.status or None,
            "statuses": [s for s in STATUS_FILTERS if s],
            "has_next": history.has_next,
        },
    }
