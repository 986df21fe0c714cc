"""The checks a booking must pass, and the lookups they need; the services call them before writing."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from webapp.bookings.times import zone
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Business, Customer, Location, StaffUser, utcnow

MAX_PRICE = 100_000_000  # minor units: one million in the major unit
OVERRIDE_LIFETIME = timedelta(minutes=15)  # a picker override is good for the booking made just after it


# --- looking things up ---------------------------------------------------------------------------


def customer_of(business: Business, customer_id, *, merged_ok: bool = False) -> Customer:
    """The business's live customer with this id (or merged away, when `merged_ok`), or a rule error
    on the customer field."""
    try:
        cid = customer_id if isinstance(customer_id, uuid.UUID) else uuid.UUID(str(customer_id))
    except (TypeError, ValueError):
        raise Invalid("customer", "Choose a customer from the book.") from None
    customer = db.session.get(Customer, cid)
    if customer is None or customer.business_id != business.id:
        raise Invalid("customer", "That customer is not in this business's book.")
    if customer.merged_into_id is not None and not merged_ok:
        raise Invalid("customer", "That customer was merged into another record; book the survivor.")
    if customer.anonymized_at is not None:
        raise Invalid("customer", "That customer was anonymized and cannot be booked.")
    return customer


def location_of(business: Business, location_id) -> Location:
    """The business's active location with this id, or a rule error on the location field."""
    location = db.session.get(Location, location_id) if isinstance(location_id, int) else None
    if location is None or location.business_id != business.id:
        raise Invalid("location", "Choose one of this business's locations.")
    if not location.active:
        raise Invalid("location", f"{location.name} is no longer active; choose another location.")
    return location


def overlapping(customer: Customer, starts_at: datetime, ends_at: datetime, exclude=None) -> list[Booking]:
    """The customer's live bookings that overlap [starts_at, ends_at)."""
    q = select(Booking).where(
        Booking.business_id == customer.business_id,
        Booking.customer_id == customer.id,
        Booking.status.in_(("booked", "completed")),
        Booking.starts_at < ends_at,
        Booking.ends_at > starts_at,
    )
    if exclude is not None:
        q = q.where(Booking.id != exclude)
    return list(db.session.scalars(q.order_by(Booking.starts_at).limit(5)))


# --- the rules -----------------------------------------------------------------------------------


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    """The end must come after the start."""
    if ends_at <= starts_at:
        raise Invalid("ends_at", "The end must be after the start.")


# A booking becomes a visit or a no-show only once its start has passed (an instant, compared in UTC).
NEEDS_START = {"completed": "completed", "no_show": "marked as a no-show"}


def has_started(booking: Booking, now: datetime | None = None) -> bool:
    """Whether the booking's start has passed: instants compared in UTC, whatever the local date."""
    return booking.starts_at <= (now or utcnow())


def check_started(booking: Booking, wanted: str, tz_name: str, now: datetime | None = None) -> None:
    """Completing or marking a no-show is refused until the booking has started; it says when, locally."""
    if wanted in NEEDS_START and not has_started(booking, now):
        when = booking.starts_at.astimezone(zone(tz_name))
        raise Invalid(
            None,
            f"This booking has not started yet: it starts on {when:%a %-d %b %Y at %H:%M}. "
            f"It can be {NEEDS_START[wanted]} once it has started.",
        )


def check_price(price: int) -> None:
    """A price is zero or more, and not absurd."""
    if price < 0:
        raise Invalid("price", "The price cannot be below zero.")
    if price > MAX_PRICE:
        raise Invalid("price", "That price is too large; check the amount.")


def picker_override_reason(customer: Customer, actor: StaffUser, event_id) -> str:
    """The reason of this manager's recent picker override for this customer (audit event), or ""."""
    try:
        event = db.session.get(AuditEvent, int(event_id)) if event_id else None
    except (TypeError, ValueError):
        return ""
    if (
        event is None
        or event.action != "customer.blacklist_override"
        or event.business_id != customer.business_id
        or event.customer_id != customer.id
        or event.actor_id != actor.id
        or event.created_at < utcnow() - OVERRIDE_LIFETIME
    ):
        return ""
    return str((event.changes or {}).get("reason", ""))


def check_blacklist(customer: Customer, actor: StaffUser, override_reason: str) -> bool:
    """A blocked customer is booked only by a manager giving a reason; True when that override is used."""
    if customer.restriction != "block":
        return False
    why = f" ({customer.blacklist_reason})" if customer.blacklist_reason else ""
    if not actor.has_role("manager"):
        raise Invalid(
            "customer", f"{customer.display_name} is blacklisted{why}. Only a manager can book them."
        )
    if not override_reason.strip():
        raise Invalid(
            "override_reason", f"{customer.display_name} is blacklisted{why}. Give a reason to book anyway."
        )
    return True


def overlap_message(customer: Customer, clashes: list[Booking], tz_name: str) -> str:
    """Say which bookings the new one overlaps, in the business's time."""
    when = ", ".join(
        f"{b.service or 'a booking'} at {b.starts_at.astimezone(zone(tz_name)):%-d %b %H:%M}" for b in clashes
    )
    return f"{customer.display_name} already has {when} at that time. Tick “Book anyway” to double-book."
