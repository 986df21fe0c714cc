"""Booking rules: create, complete, cancel, no-show, reschedule, delete; each keeps the customer's counters.

Counters move with SQL UPDATEs in the caller's transaction (never through ORM attributes, so a booking
never bumps `Customer.version` and never makes an open edit form stale). Status changes are
compare-and-set UPDATEs on the booking, so two desks pressing "Complete" at once count it once.
"""

from datetime import datetime

from sqlalchemy import delete, select, update

from webapp import signals
from webapp.audit import record
from webapp.bookings.counters import deltas_for, forget_counters, move_counters, refresh_visits
from webapp.bookings.rules import (
    NEEDS_START,
    check_blacklist,
    check_price,
    check_started,
    check_times,
    customer_of,
    location_of,
    overlap_message,
    overlapping,
    picker_override_reason,
)
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Booking, Business, CardStamp, Customer, Sale, StaffUser, utcnow
from webapp.models.locks import lock_customer

STATUS_LABELS = {"booked": "booked", "completed": "completed", "cancelled": "cancelled", "no_show": "no-show"}
MERGE_HOPS = 10  # a chain of merges longer than this is a loop, not history


def bookable_customer(business: Business, customer_id) -> Customer:
    """The customer to book, its row locked until commit: a merge cannot move their bookings away
    between our checks and our insert. A record merged away meanwhile (or since the form opened) books
    its survivor, as the receptionist meant: the booking's customer then differs from the one asked."""
    customer = customer_of(business, customer_id, merged_ok=True)
    for _ in range(MERGE_HOPS):
        locked = lock_customer(customer.id)
        if locked is None:
            raise Invalid("customer", "That customer was removed from the book meanwhile.")
        if locked.merged_into_id is None:
            break
        customer = customer_of(business, locked.merged_into_id, merged_ok=True)
    return customer_of(business, customer.id)  # the rules again, on the locked, committed row


def create_booking(
    business: Business,
    actor: StaffUser,
    *,
    customer_id,
    location_id,
    starts_at: datetime,
    ends_at: datetime,
    service: str,
    staff_name: str = "",
    price: int = 0,
    notes: str = "",
    override_reason: str = "",
    override_event_id=None,
    allow_overlap: bool = False,
) -> Booking:
    """Book a customer; every rule is checked before anything is written. Caller commits.

    A blacklisted customer needs a manager's `override_reason`, or `override_event_id`: the audit
    event of the override the same manager just made in the calendar picker.
    """
    customer = bookable_customer(business, customer_id)
    if not override_reason.strip() and override_event_id:
        override_reason = picker_override_reason(customer, actor, override_event_id)
    location = location_of(business, location_id)
    check_times(starts_at, ends_at)
    check_price(price)
    if not service.strip():
        raise Invalid("service", "Say what the booking is for.")
    overridden = check_blacklist(customer, actor, override_reason)
    clashes = overlapping(customer, starts_at, ends_at)
    if clashes and not allow_overlap:
        raise Invalid("allow_overlap", overlap_message(customer, clashes, business.timezone))
    booking = Booking(
        business_id=business.id,
        customer_id=customer.id,
        location_id=location.id,
        service=service.strip(),
        staff_name=staff_name.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        price=price,
        notes=notes.strip(),
        status="booked",
        created_by_id=actor.id,
    )
    db.session.add(booking)
    db.session.flush()
    move_counters(customer.id, total_bookings=1)
    record(
        actor,
        "booking.created",
        customer,
        booking_id=str(booking.id),
        service=booking.service,
        location=location.name,
        starts_at=starts_at.isoformat(),
        price=price,
    )
    if overridden:
        record(
            actor,
            "booking.blacklist_override",
            customer,
            booking_id=str(booking.id),
            reason=override_reason.strip(),
            blacklist_reason=customer.blacklist_reason,
        )
    forget_counters(customer.id)
    return booking


def complete_booking(booking: Booking, actor: StaffUser) -> Booking:
    """The customer came: a visit (its price becomes a sale through `booking_completed`). Caller commits."""
    return change_status(booking, actor, "completed")


def cancel_booking(booking: Booking, actor: StaffUser, by: str) -> Booking:
    """Cancelled by the customer or by the business. Caller commits."""
    if by not in ("customer", "business"):
        raise Invalid("by", "Say who cancelled: the customer or the business.")
    return change_status(booking, actor, "cancelled", cancelled_by=by)


def mark_no_show(booking: Booking, actor: StaffUser) -> Booking:
    """The customer did not come. Caller commits."""
    return change_status(booking, actor, "no_show")


VERBS = {"completed": "completed", "cancelled": "cancelled", "no_show": "marked as a no-show"}


def change_status(
    booking: Booking, actor: StaffUser, status: str, cancelled_by: str | None = None
) -> Booking:
    """Move a booked booking to `status` exactly once, and move the counters with it.

    Completed and no-show need the booking to have started (a future visit would count as the last
    one); the compare-and-set UPDATE checks that too, so a reschedule meanwhile cannot slip past it.
    """
    if booking.status != "booked":
        raise Invalid(None, transition_refusal(booking.status, status))
    tz_name = db.session.get(Business, booking.business_id).timezone
    now = utcnow()
    check_started(booking, status, tz_name, now)
    guard = [Booking.starts_at <= now] if status in NEEDS_START else []
    done = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == "booked", *guard)
        .values(status=status, cancelled_by=cancelled_by, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # someone else changed it between our read and our write
        db.session.refresh(booking)
        if booking.status == "booked":  # moved into the future meanwhile
            check_started(booking, status, tz_name, now)
        raise Invalid(None, transition_refusal(booking.status, status))
    db.session.refresh(booking)
    move_counters(booking.customer_id, **deltas_for(booking))
    if status == "completed":
        refresh_visits(booking.business_id, booking.customer_id)
    record(
        actor,
        f"booking.{status}",
        db.session.get(Customer, booking.customer_id),
        booking_id=str(booking.id),
        status=["booked", status],
        **({"cancelled_by": cancelled_by} if cancelled_by else {}),
    )
    forget_counters(booking.customer_id)
    if status == "completed":  # its sale (when it has a price), a stamp: other features' rows
        signals.booking_completed.send(booking, actor=actor)
    return booking


def transition_refusal(current: str, wanted: str) -> str:
    """Why a booking in `current` cannot become `wanted`."""
    if current == wanted == "cancelled":
        return "This booking is already cancelled."
    if current == wanted:
        return f"This booking is already {STATUS_LABELS[current]}."
    if current == "cancelled":
        return f"This booking was cancelled, so it cannot be {VERBS[wanted]}."
    return f"This booking is already {STATUS_LABELS[current]}; only a booked one can be {VERBS[wanted]}."


def reschedule_booking(booking: Booking, actor: StaffUser, starts_at: datetime, ends_at: datetime) -> Booking:
    """Move a booked booking to a new time. Caller commits."""
    check_times(starts_at, ends_at)
    if booking.status != "booked":
        raise Invalid(
            None, f"Only a booked booking can be moved; this one is {STATUS_LABELS[booking.status]}."
        )
    old = booking.starts_at
    done = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == "booked")
        .values(starts_at=starts_at, ends_at=ends_at, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(booking)
    if done.rowcount != 1:
        raise Invalid(
            None, f"Only a booked booking can be moved; this one is {STATUS_LABELS[booking.status]}."
        )
    record(
        actor,
        "booking.rescheduled",
        db.session.get(Customer, booking.customer_id),
        booking_id=str(booking.id),
        starts_at=[old.isoformat(), starts_at.isoformat()],
    )
    return booking


def not_movable(booking: Booking) -> str:
    """Why this booking cannot be moved."""
    return f"Only a booked booking can be moved; this one is {STATUS_LABELS[booking.status]}."


def delete_booking(booking: Booking, actor: StaffUser) -> None:
    """Remove a booking entered by mistake, taking it out of every counter. Caller commits."""
    business_id, customer_id = booking.business_id, booking.customer_id
    receipt = db.session.scalar(
        select(Sale.receipt_number).where(Sale.business_id == business_id, Sale.booking_id == booking.id)
    )
    if receipt is not None:  # a sale is never deleted, and it keeps its booking
        raise Invalid(
            None,
            f"This booking was paid for (receipt {receipt}), so it cannot be deleted; "
            "a manager can void or refund the sale instead.",
        )
    stamped = db.session.scalar(
        select(CardStamp.id).where(CardStamp.business_id == business_id, CardStamp.booking_id == booking.id)
    )
    if stamped is not None:  # a card's stamps are history too
        raise Invalid(None, "This visit put a stamp on a loyalty card, so it cannot be deleted.")
    deltas, status = deltas_for(booking), booking.status
    done = db.session.execute(
        delete(Booking)
        .where(Booking.id == booking.id, Booking.status == status)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Invalid(None, "This booking changed or was removed meanwhile; reload and try again.")
    db.session.expunge(booking)
    move_counters(customer_id, total_bookings=-1, **{k: -v for k, v in deltas.items()})
    if status == "completed":
        refresh_visits(business_id, customer_id)
    record(
        actor,
        "booking.deleted",
        db.session.get(Customer, customer_id),
        booking_id=str(booking.id),
        status=status,
        service=booking.service,
        starts_at=booking.starts_at.isoformat(),
        price=booking.price,
    )
    forget_counters(customer_id)
