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
    "total_spent": func.sum(case((COMPLETED, Booking.price), else_=0)),
}
ZERO = {
    "total_bookings": 0,
    "cancellations_by_customer": 0,
    "cancellations_by_business": 0,
    "no_shows": 0,
    "completed_bookings": 0,
    "first_visit_at": None,
    "last_visit_at": None,
    "total_spent": 0,
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
    """Set every counter to what the bookings say; returns how many customers were wrong. Caller commits."""
    agg = aggregates_query(business_id, customer_ids).subquery("agg")
    cols = {
        name: func.coalesce(agg.c[name], literal(ZERO[name])) if ZERO[name] is not None else agg.c[name]
        for name in AGGREGATES
    }
    wrong = or_(*(getattr(Customer, name).is_distinct_from(expr) for name, expr in cols.items()))
    scope = [Customer.merged_into_id.is_(None)]
    if business_id is not None:
        scope.append(Customer.business_id == business_id)
    if customer_ids is not None:
        scope.append(Customer.id.in_(list(customer_ids)))
    wrong_ids = (
        select(Customer.id).outerjoin(agg, agg.c.customer_id == Customer.id).where(*scope, wrong)
    ).subquery("wrong")
    count = db.session.scalar(select(func.count()).select_from(wrong_ids))
    if count:
        values = {
            name: select(expr).where(agg.c.customer_id == Customer.id).scalar_subquery()
            for name, expr in cols.items()
        }
        # Customers with no bookings at all get the zero values.
        values = {
            name: func.coalesce(v, literal(ZERO[name])) if ZERO[name] is not None else v
            for name, v in values.items()
        }
        db.session.execute(
            update(Customer)
            .where(Customer.id.in_(select(wrong_ids.c.id)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.expire_all()
    return count
