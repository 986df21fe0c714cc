"""Reading bookings for the screens: a day at a location, customers to book, locations."""

import uuid
from datetime import date

from sqlalchemy import select

from webapp.bookings.times import day_bounds
from webapp.extensions import db
from webapp.models import Booking, Business, Customer, Location


def day_bookings(business: Business, location: Location, day: date) -> list[tuple[Booking, Customer]]:
    """The day's bookings at one location (the business's clock), earliest first, with their customers."""
    start, end = day_bounds(day, business.timezone)
    return list(
        db.session.execute(
            select(Booking, Customer)
            .join(Customer, Customer.id == Booking.customer_id)
            .where(
                Booking.business_id == business.id,
                Booking.location_id == location.id,
                Booking.starts_at >= start,
                Booking.starts_at < end,
            )
            .order_by(Booking.starts_at, Booking.created_at)
        ).all()
    )


def day_totals(rows) -> dict:
    """How many bookings per status, and the takings of completed ones."""
    totals = {"booked": 0, "completed": 0, "cancelled": 0, "no_show": 0, "takings": 0}
    for booking, _ in rows:
        totals[booking.status] += 1
        if booking.status == "completed":
            totals["takings"] += booking.price
    return totals


def customer_for(booking: Booking) -> Customer:
    """The booking's customer."""
    return db.session.get(Customer, booking.customer_id)


def active_locations(business: Business) -> list[Location]:
    """The business's active locations, by name."""
    return list(
        db.session.scalars(
            select(Location)
            .where(Location.business_id == business.id, Location.active)
            .order_by(Location.name)
        )
    )


def customer_or_none(business: Business, raw_id) -> Customer | None:
    """The business's customer with this id, or None (the form shows the finder instead)."""
    try:
        cid = uuid.UUID(str(raw_id))
    except (TypeError, ValueError):
        return None
    customer = db.session.get(Customer, cid)
    if customer is None or customer.business_id != business.id:
        return None
    return customer
