"""What bookings keep in step with other features' changes: counters of customers whose bookings moved, and
nothing personal left in the bookings of an anonymized customer."""

from sqlalchemy import update

from webapp import signals
from webapp.bookings.counters import ZERO, recount
from webapp.extensions import db
from webapp.models import Booking, Customer


@signals.customers_merged.connect
def recount_merged(survivor: Customer, source: Customer, **_) -> None:
    """The duplicate's bookings are the survivor's now: the pointer left behind counts nothing."""
    db.session.execute(
        update(Customer)
        .where(Customer.id == source.id)
        .values(**ZERO)
        .execution_options(synchronize_session=False)
    )
    recount(business_id=survivor.business_id, customer_ids=[source.id, survivor.id])


@signals.bookings_transferred.connect
@signals.merge_undone.connect
def recount_both(survivor: Customer, source: Customer, **_) -> None:
    """Bookings moved between the two customers: both counters follow their bookings again."""
    recount(business_id=survivor.business_id, customer_ids=[source.id, survivor.id])


@signals.customer_anonymized.connect
def forget_booking_notes(customer: Customer, **_) -> None:
    """An anonymized customer's bookings keep their times, services and prices (the business's own
    figures) but not their notes, which are about the person ("allergic to latex")."""
    db.session.execute(
        update(Booking)
        .where(
            Booking.business_id == customer.business_id,
            Booking.customer_id == customer.id,
            Booking.notes != "",
        )
        .values(notes="")
        .execution_options(synchronize_session=False)
    )
