"""Which customers the retention rule would anonymize now: "no visit and no booking for N years".

Precisely: a live customer (not merged away — a merged record goes with its survivor — and not already
anonymized) whose latest activity is before the cut-off, today minus N years, where the latest activity
is the later of the last visit (a completed booking) and the start of the latest booking of any status
(a future or a cancelled one counts: the person was in touch); a customer with neither counts from the
day the record was created.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import exists, func, or_, select

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import Booking, Customer

MIN_YEARS, MAX_YEARS = 1, 50
RULE = (
    "A customer is anonymized when their last visit, the start of their latest booking (of any status, "
    "cancelled and future ones included) and — only when they have neither — the day their record was "
    "created are all more than {years} years ago. Customers merged into another go with the survivor; "
    "anonymized customers keep their bookings and totals but lose every personal detail."
)
PREVIEW_ROWS = 20


@dataclass
class Candidate:
    """A customer the rule selects, with what made them inactive."""

    id: object
    name: str
    last_visit_at: datetime | None
    last_booking_at: datetime | None
    created_at: datetime

    @property
    def last_activity(self) -> datetime:
        """The date the rule counts from."""
        seen = [d for d in (self.last_visit_at, self.last_booking_at) if d is not None]
        return max(seen) if seen else self.created_at


def cutoff(years: int, now: datetime | None = None) -> datetime:
    """`now` minus `years` calendar years (29 February steps back to the 28th), in UTC."""
    now = now or utcnow()
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return (now - timedelta(days=1)).replace(year=now.year - years)


def inactive_conditions(business_id: int, before: datetime) -> list:
    """SQL conditions: a live, not anonymized customer of the business with no activity since `before`."""
    booking = [Booking.business_id == business_id, Booking.customer_id == Customer.id]
    return [
        Customer.business_id == business_id,
        Customer.merged_into_id.is_(None),
        Customer.anonymized_at.is_(None),
        or_(Customer.last_visit_at.is_(None), Customer.last_visit_at < before),
        ~exists().where(*booking, Booking.starts_at >= before),
        # Without a visit or any booking, the record's age decides.
        or_(Customer.last_visit_at.is_not(None), exists().where(*booking), Customer.created_at < before),
    ]


def count_inactive(business_id: int, before: datetime) -> int:
    """How many customers the rule selects."""
    q = select(func.count()).select_from(Customer).where(*inactive_conditions(business_id, before))
    return db.session.scalar(q) or 0


def inactive_ids(business_id: int, before: datetime, limit: int | None = None) -> list:
    """The ids of the customers the rule selects (oldest record first), up to `limit`."""
    q = select(Customer.id).where(*inactive_conditions(business_id, before))
    q = q.order_by(Customer.created_at, Customer.id).limit(limit)
    return list(db.session.scalars(q))


def preview(business_id: int, before: datetime, limit: int = PREVIEW_ROWS) -> list[Candidate]:
    """The first customers the rule selects, with their latest booking start."""
    latest = (
        select(func.max(Booking.starts_at))
        .where(Booking.business_id == business_id, Booking.customer_id == Customer.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Customer.id,
            Customer.first_name,
            Customer.last_name,
            Customer.dummy_label,
            Customer.last_visit_at,
            latest.label("last_booking_at"),
            Customer.created_at,
        )
        .where(*inactive_conditions(business_id, before))
        .order_by(Customer.created_at, Customer.id)
        .limit(limit)
    ).all()
    return [
        Candidate(
            r.id,
            " ".join(p for p in (r.first_name, r.last_name) if p) or r.dummy_label or "Unnamed walk-in",
            aware(r.last_visit_at),
            aware(r.last_booking_at),
            aware(r.created_at),
        )
        for r in rows
    ]


def aware(value):
    """A datetime read through a scalar subquery (SQLite gives it back naive, or as text) as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value
