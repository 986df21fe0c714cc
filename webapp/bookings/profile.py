"""What the customer profile shows about bookings: stat tiles, visits chart, upcoming and history.

A fixed number of queries whatever the number of bookings: the tiles read the customer's counters;
the chart is one GROUP BY over an index range; upcoming is one list and one count; the history is
one page; the no-show badge is one count.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import g
from sqlalchemy import case, func, literal_column, select

from webapp.bookings.chart import Chart, visits_chart
from webapp.bookings.times import local_today, month_starts
from webapp.extensions import db
from webapp.models import Booking, Business, Customer, utcnow

PROFILE_QUERIES = 5  # chart, upcoming list, upcoming count, no-shows in 90 days, history page
HISTORY_PAGE_SIZE = 20
UPCOMING_SHOWN = 5
CHART_MONTHS = 24
NO_SHOW_WINDOW = timedelta(days=90)
FREQUENT_NO_SHOWS = 2
STATUS_FILTERS = {
    "": "All",
    "booked": "Booked",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-shows",
}


@dataclass
class HistoryPage:
    """One page of a customer's bookings, newest first, perhaps filtered by status."""

    bookings: list[Booking]
    page: int
    has_next: bool
    status: str


@dataclass
class BookingProfile:
    """Everything templates/bookings/_profile.html shows."""

    customer: Customer
    upcoming: list[Booking]
    upcoming_count: int
    recent_no_shows: int
    months: list[tuple[date, int]]
    history: HistoryPage
    filters: dict = field(default_factory=lambda: STATUS_FILTERS)

    @property
    def frequent_no_shows(self) -> bool:
        return self.recent_no_shows >= FREQUENT_NO_SHOWS

    @property
    def chart(self) -> Chart:
        return visits_chart(self.months)


def business_of(customer: Customer) -> Business:
    """The signed-in business (the customer's own outside a request)."""
    business = g.get("business")
    if business is not None and business.id == customer.business_id:
        return business
    return db.session.get(Business, customer.business_id)


def profile_context(customer: Customer, args) -> dict:
    """Context for templates/bookings/_profile.html; `args` are the profile's query arguments."""
    business = business_of(customer)
    now = utcnow()
    return {
        "booking_profile": BookingProfile(
            customer=customer,
            upcoming=upcoming(customer, now),
            upcoming_count=count_upcoming(customer, now),
            recent_no_shows=count_recent_no_shows(customer, now),
            months=visits_per_month(customer, business.timezone),
            history=history_page(customer, args),
        )
    }


def of_customer(customer: Customer):
    """Bookings of this customer (the conditions every index here leads with)."""
    return (Booking.business_id == customer.business_id, Booking.customer_id == customer.id)


def upcoming(customer: Customer, now: datetime) -> list[Booking]:
    """The next few booked appointments."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(*of_customer(customer), Booking.status == "booked", Booking.starts_at > now)
            .order_by(Booking.starts_at)
            .limit(UPCOMING_SHOWN)
        )
    )


def count_upcoming(customer: Customer, now: datetime) -> int:
    """Booked and still in the future: counted live, since the clock (not a write) makes them past."""
    return db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(*of_customer(customer), Booking.status == "booked", Booking.starts_at > now)
    )


def count_recent_no_shows(customer: Customer, now: datetime) -> int:
    """No-shows in the last 90 days."""
    return db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            *of_customer(customer),
            Booking.status == "no_show",
            Booking.starts_at >= now - NO_SHOW_WINDOW,
            Booking.starts_at <= now,
        )
    )


def visits_per_month(customer: Customer, tz_name: str) -> list[tuple[date, int]]:
    """Completed bookings in each of the last 24 months (months on the business's clock), oldest first."""
    this_month = local_today(tz_name).replace(day=1)
    bounds = month_starts(this_month, CHART_MONTHS, tz_name)
    # Month i is [bounds[i], bounds[i+1]); the CASE finds it with plain comparisons on any engine.
    month = case(*((Booking.starts_at < bounds[i + 1], i) for i in range(CHART_MONTHS))).label("month")
    counts = dict(
        db.session.execute(
            select(month, func.count())
            .where(
                *of_customer(customer),
                Booking.status == "completed",
                Booking.starts_at >= bounds[0],
                Booking.starts_at < bounds[-1],
            )
            .group_by(literal_column("month"))
        ).all()
    )
    first = this_month.year * 12 + this_month.month - 1 - (CHART_MONTHS - 1)
    return [(date((first + i) // 12, (first + i) % 12 + 1, 1), counts.get(i, 0)) for i in range(CHART_MONTHS)]


def history_args(args) -> tuple[str, int]:
    """The status filter and page number from query arguments (bad values fall back)."""
    status = args.get("status", "")
    if status not in STATUS_FILTERS:
        status = ""
    try:
        page = max(1, min(int(args.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        page = 1
    return status, page


def history_page(customer: Customer, args, size: int = HISTORY_PAGE_SIZE) -> HistoryPage:
    """One page of the booking history, newest first (one query; the location comes joined)."""
    status, page = history_args(args)
    q = select(Booking).where(*of_customer(customer))
    if status:
        q = q.where(Booking.status == status)
    rows = list(
        db.session.scalars(
            q.order_by(Booking.starts_at.desc(), Booking.id.desc()).limit(size + 1).offset((page - 1) * size)
        )
    )
    return HistoryPage(rows[:size], page, len(rows) > size, status)
