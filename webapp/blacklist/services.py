"""Blacklist rules: restrict a customer (block or warn), lift it, review it, suggest and detect evasion."""

import uuid
from datetime import date, timedelta

from sqlalchemy import and_, case, func, literal_column, or_, select

from webapp.audit import record
from webapp.database import utcnow
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Booking, Customer, CustomerContactHistory, StaffUser
from webapp.models.customer import BLACKLIST_LEVELS, LEAN

REASON_MAX = 1000
SUGGEST_WINDOW_DAYS = 90
SUGGEST_THRESHOLD = 3
LATE_CANCEL_HOURS = 24
LEVEL_LABELS = {"block": "Blacklisted", "warn": "Warning"}


def _check_restrictable(customer: Customer) -> None:
    if customer.merged_into_id is not None:
        raise Invalid(None, "This customer was merged into another record; restrict the survivor instead.")
    if customer.anonymized_at is not None:
        raise Invalid(None, "This customer was anonymized and cannot be restricted.")


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason", "Say why, for whoever reviews this later.")
    if len(reason) > REASON_MAX:
        raise Invalid("reason", f"Keep the reason under {REASON_MAX} characters.")
    return reason


def restriction_snapshot(customer: Customer) -> dict:
    """The restriction fields as JSON-ready values (for audit events)."""
    return {
        "blacklisted_at": customer.blacklisted_at.isoformat() if customer.blacklisted_at else None,
        "reason": customer.blacklist_reason or "",
        "level": customer.blacklist_level,
        "expires_on": customer.blacklist_expires_on.isoformat() if customer.blacklist_expires_on else None,
        "by_id": customer.blacklisted_by_id,
    }


def blacklist(
    customer: Customer,
    actor: StaffUser | None,
    reason: str,
    level: str = "block",
    expires_on: date | None = None,
    actor_label: str | None = None,
) -> Customer:
    """Restrict `customer` (or change an existing restriction). Caller commits.

    `actor` is None for an API key (then `actor_label` names it in the history)."""
    _check_restrictable(customer)
    reason = _clean_reason(reason)
    if level not in BLACKLIST_LEVELS:
        raise Invalid("level", "Choose Block or Warn.")
    if expires_on is not None and expires_on <= date.today():
        raise Invalid("expires_on", "The expiry date must be in the future (or leave it empty).")
    before = restriction_snapshot(customer) if customer.restriction else None
    if before is None:
        customer.blacklisted_at = utcnow()
        customer.blacklist_reviewed_at = None
        customer.blacklist_reviewed_by_id = None
    customer.blacklist_reason = reason
    customer.blacklist_level = level
    customer.blacklist_expires_on = expires_on
    customer.blacklisted_by_id = actor.id if actor is not None else None
    action = "customer.blacklist_changed" if before else "customer.blacklisted"
    record(
        actor, action, customer, actor_label=actor_label, before=before, after=restriction_snapshot(customer)
    )
    db.session.flush()
    return customer


def unblacklist(
    customer: Customer, actor: StaffUser | None, reason: str, actor_label: str | None = None
) -> Customer:
    """Lift the customer's restriction (a reason is required). Caller commits."""
    _check_restrictable(customer)
    reason = _clean_reason(reason)
    if customer.blacklisted_at is None:
        raise Invalid(None, "This customer is not blacklisted.")
    before = restriction_snapshot(customer)
    customer.blacklisted_at = None
    customer.blacklist_reason = ""
    customer.blacklist_level = "block"
    customer.blacklist_expires_on = None
    customer.blacklisted_by_id = None
    customer.blacklist_reviewed_at = None
    customer.blacklist_reviewed_by_id = None
    record(actor, "customer.unblacklisted", customer, actor_label=actor_label, before=before, reason=reason)
    db.session.flush()
    return customer


def mark_reviewed(customer: Customer, actor: StaffUser, note: str = "") -> Customer:
    """Record that a manager looked at this restriction and kept it. Caller commits."""
    _check_restrictable(customer)
    if customer.blacklisted_at is None:
        raise Invalid(None, "This customer is not blacklisted, so there is nothing to review.")
    customer.blacklist_reviewed_at = utcnow()
    customer.blacklist_reviewed_by_id = actor.id
    record(actor, "customer.blacklist_reviewed", customer, note=(note or "").strip()[:REASON_MAX])
    db.session.flush()
    return customer


def active_restriction_clause(today: date | None = None):
    """SQL condition: a restriction (block or warn) that has not lapsed."""
    today = today or date.today()
    return and_(
        Customer.blacklisted_at.is_not(None),
        or_(Customer.blacklist_expires_on.is_(None), Customer.blacklist_expires_on > today),
    )


def live_customers(business_id: int):
    """Customers of a business that are neither merged away nor anonymized."""
    return and_(
        Customer.business_id == business_id,
        Customer.merged_into_id.is_(None),
        Customer.anonymized_at.is_(None),
    )


def _cancelled_late():
    """SQL: the booking was cancelled (last changed) less than 24 hours before it was due to start."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(Booking.updated_at) > func.julianday(Booking.starts_at) - LATE_CANCEL_HOURS / 24
    return Booking.updated_at > Booking.starts_at - literal_column(f"interval '{LATE_CANCEL_HOURS} hours'")


def suggested_for_review(business_id: int, limit: int = 50) -> list[tuple[Customer, int, int]]:
    """Unrestricted customers with 3+ no-shows or late cancellations in 90 days, with both counts."""
    now = utcnow()
    since = now - timedelta(days=SUGGEST_WINDOW_DAYS)
    late = and_(Booking.status == "cancelled", Booking.cancelled_by == "customer", _cancelled_late())
    no_show = Booking.status == "no_show"
    # Two steps on purpose: aggregate the bookings first, then load those few customers. As one join,
    # a planner with stale statistics may re-run the aggregate once per customer.
    total = func.count()
    counts = db.session.execute(
        select(
            Booking.customer_id,
            func.sum(case((no_show, 1), else_=0)),
            func.sum(case((late, 1), else_=0)),
        )
        .where(
            Booking.business_id == business_id,
            Booking.status.in_(("no_show", "cancelled")),
            Booking.starts_at >= since,
            Booking.starts_at <= now + timedelta(hours=LATE_CANCEL_HOURS),
            or_(no_show, late),
        )
        .group_by(Booking.customer_id)
        .having(total >= SUGGEST_THRESHOLD)
        .order_by(total.desc())
        .limit(limit * 4)  # room for the ones already restricted, filtered out below
    ).all()
    by_id = {cid: (int(n or 0), int(lt or 0)) for cid, n, lt in counts}
    if not by_id:
        return []
    customers = db.session.scalars(
        select(Customer)
        .where(live_customers(business_id), ~active_restriction_clause(), Customer.id.in_(list(by_id)))
        .options(*LEAN)
    ).all()
    customers = sorted(customers, key=lambda c: (-sum(by_id[c.id]), c.last_name, c.first_name))[:limit]
    return [(c, *by_id[c.id]) for c in customers]


def ban_evasion_matches(
    business_id: int,
    email_normalized: str | None,
    phone: str | None,
    exclude_id: uuid.UUID | str | None = None,
) -> list[Customer]:
    """Restricted customers whose present or former email or phone is one of these."""
    email_normalized = (email_normalized or "").strip().lower() or None
    phone = (phone or "").strip() or None
    if not email_normalized and not phone:
        return []
    present, former = [], []
    if email_normalized:
        present.append(Customer.email_normalized == email_normalized)
        former.append(CustomerContactHistory.email_normalized == email_normalized)
    if phone:
        present.append(Customer.phone == phone)
        former.append(CustomerContactHistory.phone == phone)
    former_ids = select(CustomerContactHistory.customer_id).where(
        CustomerContactHistory.business_id == business_id, or_(*former)
    )
    query = (
        select(Customer)
        .where(
            live_customers(business_id),
            active_restriction_clause(),
            or_(*present, Customer.id.in_(former_ids)),
        )
        .order_by(Customer.blacklisted_at)
        .limit(10)
        .options(*LEAN)
    )
    if exclude_id:
        query = query.where(Customer.id != uuid.UUID(str(exclude_id)))
    return list(db.session.scalars(query))
