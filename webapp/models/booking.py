"""Bookings: a customer's appointment at a location."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.database import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.models.business import Location

STATUSES = ("booked", "completed", "cancelled", "no_show")
CANCELLED_BY = ("customer", "business")


class Booking(db.Model):
    """An appointment; start and end are UTC, shown in the business's timezone."""

    __table_args__ = (
        Index("ix_booking_business_customer_start", "business_id", "customer_id", "starts_at"),
        # The API's booking_date filter: who had a booking starting in a range (migration 0011).
        Index("ix_booking_business_start_customer", "business_id", "starts_at", "customer_id"),
        Index("ix_booking_business_location_start", "business_id", "location_id", "starts_at"),
        Index("ix_booking_business_customer_status", "business_id", "customer_id", "status", "starts_at"),
        # The blacklist's "suggested for review": no-shows and cancellations in a date range.
        Index("ix_booking_business_status_start", "business_id", "status", "starts_at"),
        # "Has an upcoming booking" (the list's filter): the booked future bookings, to count from.
        Index("ix_booking_upcoming", "business_id", "status", "starts_at", "customer_id"),
        # The foreign-key check of a customer's delete (an import's undo deletes thousands): without an
        # index led by customer_id, SQLite scanned every booking for each deleted customer (0014).
        Index("ix_booking_customer", "customer_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    service: Mapped[str] = mapped_column(String(200), default="")
    staff_name: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="booked")
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    price: Mapped[int] = mapped_column(default=0)  # minor units
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    location: Mapped[Location] = relationship(lazy="joined")
