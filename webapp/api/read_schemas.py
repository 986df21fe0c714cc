"""Query and response models of the calendar's customer search and a customer's statistics."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field

from webapp.api.schemas import Lax, Text
from webapp.bookings.profile import STATUS_FILTERS
from webapp.models.customer import BLACKLIST_LEVELS, SOURCES
from webapp.search.criteria import MAX_PAGE, MAX_QUERY

BOOKING_STATUSES = tuple(s for s in STATUS_FILTERS if s)

# --- the calendar's search ---------------------------------------------------------------------------


class CalendarQuery(Lax):
    """What the booking calendar's type-ahead sends."""

    q: Text(MAX_QUERY) | None = Field(
        None,
        validation_alias=AliasChoices("q", "query", "search"),
        description="Name, email, phone digits, company (aliases: query, search). Empty: no customers.",
    )
    sort: Text(40) | None = Field(None, description="As the list's sort; best match first when absent.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    limit: int = Field(10, ge=1, le=50)


class CalendarCustomer(BaseModel):
    """One match as the calendar shows it on a row."""

    id: uuid.UUID
    name: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None = Field(description="E.164")
    company: str
    is_dummy: bool
    anonymized: bool
    restriction: Literal[BLACKLIST_LEVELS] | None = Field(  # type: ignore[valid-type]
        description="warn: show the reason; block: a manager must override before booking."
    )
    blacklisted: bool = Field(description="True when the restriction is block.")
    blacklist_reason: str
    tags: list[str]
    total_bookings: int
    no_shows: int
    last_visit_at: datetime | None


class CalendarCustomers(BaseModel):
    """The best matches of a query, best first."""

    query: str
    customers: list[CalendarCustomer]
    has_more: bool


# --- a customer's statistics -------------------------------------------------------------------------


class StatsQuery(Lax):
    """Which page of the booking history comes with the statistics."""

    status: Literal[BOOKING_STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="Only bookings with this status."
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    limit: int = Field(50, ge=1, le=200)


class StatsBooking(BaseModel):
    """One booking of the history."""

    id: uuid.UUID
    location_id: int
    location: str
    service: str
    staff_name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    cancelled_by: str | None
    price: int = Field(description="Minor units.")
    notes: str


class BookingsPage(BaseModel):
    """Where the history's page is."""

    page: int
    limit: int
    status: Literal[BOOKING_STATUSES] | None  # type: ignore[valid-type]
    statuses: list[str]
    has_next: bool


class CustomerStats(BaseModel):
    """The booking system's customer statistics, with a page of the booking history (newest first)."""

    id: uuid.UUID
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    phone: str | None = Field(description="E.164")
    date_of_birth: date | None
    company: str
    notes: str
    source: str = Field(description=f"One of {', '.join(SOURCES)}.")
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    is_dummy: bool
    is_blacklisted: bool
    blacklist_reason: str
    blacklist_level: Literal[BLACKLIST_LEVELS] | None  # type: ignore[valid-type]
    merged_into_id: uuid.UUID | None
    total_bookings: int
    total_cancellations: int = Field(description="Cancelled by the customer.")
    cancellations_by_business: int
    no_shows: int
    completed_bookings: int
    upcoming_bookings: int
    first_visit_at: datetime | None
    last_visit_at: datetime | None
    total_spent: int = Field(description="Minor units.")
    average_spend: int = Field(description="Minor units.")
    bookings: list[StatsBooking]
    bookings_page: BookingsPage
