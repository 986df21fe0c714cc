"""Customer counters derived from bookings, and the set-based recount that repairs them."""

from sqlalchemy import and_, case, func, literal, or_, select, update

from webapp.extensions import db
from webapp.models import Booking, Customer

# Counter column -> the aggregate over a customer's bookings that it must equal.
COMPLETED = Booking.status == "completed"
AGGREGATES = {
    "total_bookings": func.count(Booking.id),
    "cancellations_by_customer": func.sum(
        case((and_(Booking.status == "cancelled", Booking.cancelled_by == "customer"), 1), else_=0)
    ),
    "cancellations_by_business": func.sum(
        case((and_(Booking.status == "cancelled", Booking.cancelled_by == "business"), 1), else_=0)
    ),
    "no_shows": func.sum(case((Booking.status == "no_show", 1), else_=0)),
    "completed_bookings": func.sum(case((COMPLETED, 1), else_=0)),
    "first_visit_at": func.min(case((COMPLETED, Booking.starts_at))),
    "last_visit_at": func.max(case((COMPLETED, Booking.starts_at))),
}
# Spend is not a booking counter: `total_spent` is the sum of the customer's sales (webapp/money), and
# completing a booking with a price records its sale (the `booking_completed` signal).
COUNTERS = tuple(AGGREGATES)
ZERO = {
    "total_bookings": 0,
    "cancellations_by_customer": 0,
    "cancellations_by_business": 0,
    "no_shows": 0,
    "completed_bookings": 0,
    "first_visit_at": None,
    "last_visit_at": None,
}


def aggregates_query(business_id: int | None = None, customer_ids=None):
    """One row per customer with bookings: customer_id and every aggregate."""
    q = select(Booking.customer_id, *(agg.label(name) for name, agg in AGGREGATES.items())).group_by(
        Booking.customer_id
    )
    if business_id is not None:
        q = q.where(Booking.business_id == business_id)
    if customer_ids is not None:
        q = q.where(Booking.customer_id.in_(list(customer_ids)))
    return q


def recount(business_id: int | None = None, customer_ids=None) -> int:
    """Set every counter to what the bookings say; returns how many customers were wrong. Caller commits.

    Two set-based UPDATEs, whatever the number of customers: one joins the customers to an aggregate
    of their bookings (UPDATE … FROM), the other zeroes customers who have no bookings left. Only
    rows that are wrong are written, so the row counts are the answer.
    """
    scope = []  # merged-away customers too: a pointer counts nothing (rehome_stranded moves its rows)
    if business_id is not None:
        scope.append(Customer.business_id == business_id)
    if customer_ids is not None:
        scope.append(Customer.id.in_(list(customer_ids)))
    agg = aggregates_query(business_id, customer_ids).subquery("agg")
    cols = {
        name: func.coalesce(agg.c[name], literal(ZERO[name])) if ZERO[name] is not None else agg.c[name]
        for name in AGGREGATES
    }
    wrong = or_(*(getattr(Customer, name).is_distinct_from(expr) for name, expr in cols.items()))
    with_bookings = db.session.execute(
        update(Customer)
        .where(Customer.id == agg.c.customer_id, *scope, wrong)
        .values(updated_at=Customer.updated_at, **cols)
        .execution_options(synchronize_session=False)
    ).rowcount
    has_bookings = (
        select(Booking.id)
        .where(Booking.business_id == Customer.business_id, Booking.customer_id == Customer.id)
        .exists()
    )
    not_zero = or_(
        *(
            getattr(Customer, name).is_distinct_from(literal(zero) if zero is not None else None)
            for name, zero in ZERO.items()
        )
    )
    without_bookings = db.session.execute(
        update(Customer)
        .where(*scope, ~has_bookings, not_zero)
        .values(updated_at=Customer.updated_at, **ZERO)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire_all()
    return with_bookings + without_bookings


def rehome_stranded(business_id: int | None = None) -> int:
    """Move bookings left on merged-away customers to the end of their merge chain; returns how many.

    A row on a merged customer is always wrong (nothing shows it); a booking made while its customer
    was merged away left one before bookings locked the customer. Caller recounts and commits."""
    merged = select(Customer.id).where(Customer.merged_into_id.is_not(None))
    if business_id is not None:
        merged = merged.where(Customer.business_id == business_id)
    stranded = select(func.count()).select_from(Booking).where(Booking.customer_id.in_(merged))
    moved = db.session.scalar(stranded)
    for _ in range(10 if moved else 0):  # one hop of the chain per UPDATE; chains are short
        pointer = select(Customer.merged_into_id).where(Customer.id == Booking.customer_id).scalar_subquery()
        hop = db.session.execute(
            update(Booking)
            .where(Booking.customer_id.in_(merged))
            .values(customer_id=pointer, updated_at=Booking.updated_at)  # a move is not an edit
            .execution_options(synchronize_session=False)
        )
        if not hop.rowcount:
            break
    db.session.expire_all()
    return moved


# --- moving the counters with each booking change (the services call these) ---------------------


def deltas_for(booking: Booking) -> dict[str, int]:
    """What one booking in its current status adds to the counters (besides total_bookings)."""
    if booking.status == "completed":
        return {"completed_bookings": 1}
    if booking.status == "no_show":
        return {"no_shows": 1}
    if booking.status == "cancelled":
        return {f"cancellations_by_{booking.cancelled_by}": 1}
    return {}


def move_counters(customer_id, **deltas: int) -> None:
    """Add `deltas` to the customer's counters in one UPDATE (not via the ORM: no version bump)."""
    if not deltas:
        return
    values = {name: getattr(Customer, name) + delta for name, delta in deltas.items()}
    db.session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(updated_at=Customer.updated_at, **values)
        .execution_options(synchronize_session=False)
    )


def refresh_visits(business_id: int, customer_id) -> None:
    """Recompute first and last visit from the customer's completed bookings (an index range)."""
    completed = select(Booking.starts_at).where(
        Booking.business_id == business_id,
        Booking.customer_id == customer_id,
        Booking.status == "completed",
    )
    db.session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(
            updated_at=Customer.updated_at,
            first_visit_at=completed.with_only_columns(func.min(Booking.starts_at)).scalar_subquery(),
            last_visit_at=completed.with_only_columns(func.max(Booking.starts_at)).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


def forget_counters(customer_id) -> None:
    """Make a loaded customer reload its counters (expiring attributes does not touch `version`)."""
    customer = db.session.identity_map.get(db.session.identity_key(Customer, customer_id))
    if customer is not None:
        db.session.expire(customer, list(COUNTERS) + ["updated_at"])
