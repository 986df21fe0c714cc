"""Customer list filters and sorts as SQL conditions, chosen so each engine can use an index."""

from datetime import UTC, datetime

from sqlalchemy import and_, exists, func, literal_column, or_, select

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import Booking, Customer
from webapp.models.customer import CustomerConsent, customer_location, customer_tag
from webapp.search.criteria import Criteria

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SORTS = {
    "name": Customer.search_name,
    "created": Customer.created_at,
    "updated": Customer.updated_at,
    "last_visit": Customer.last_visit_at,
    "total_bookings": Customer.total_bookings,
    "total_spent": Customer.total_spent,
    "points": Customer.points_balance,
}


RARE_LINKS = 2000  # a link filter matching fewer rows than this is driven from the link table


def linked(business, table, customer_column, *conditions):
    """Customers having a row in a link table. PostgreSQL's planner picks the join order itself;
    SQLite's cannot tell a rare filter from a common one, so a capped count of the link rows decides:
    a rare one is driven from the link table (a handful of lookups, never a scan of every customer),
    a common one is checked row by row in the list's own order."""
    rows = select(customer_column).where(*conditions)
    if db.engine.dialect.name == "sqlite":
        probe = select(func.count()).select_from(rows.limit(RARE_LINKS).subquery())
        if db.session.scalar(probe) < RARE_LINKS:
            return Customer.id.in_(rows)
    return exists(rows.where(customer_column == Customer.id))


def unindexed(column):
    """`column` written so SQLite will not pick its index (`+column`): for a wide date range, walking
    the sort's index and reading the date beats collecting the whole range and sorting it."""
    if db.engine.dialect.name != "sqlite":
        return column
    return literal_column(f"+customer.{column.key}", type_=column.type)


def base_conditions(business, c: Criteria, *, steer: bool = False) -> list:
    """Business scope, live customers only, and every filter of `c` (`steer`: see `unindexed`)."""
    where = [Customer.business_id == business.id, Customer.merged_into_id.is_(None)]
    if c.tags:
        where.append(
            linked(
                business,
                customer_tag,
                customer_tag.c.customer_id,
                customer_tag.c.business_id == business.id,
                customer_tag.c.tag_id.in_(c.tags),
            )
        )
    if c.location:
        where.append(
            linked(
                business,
                customer_location,
                customer_location.c.customer_id,
                customer_location.c.business_id == business.id,
                customer_location.c.location_id == c.location,
            )
        )
    if c.blacklisted is not None:
        active = and_(
            Customer.blacklisted_at > EPOCH,  # a range, so the (business_id, blacklisted_at) index serves it
            or_(Customer.blacklist_expires_on.is_(None), Customer.blacklist_expires_on > c.today),
        )
        lapsed = or_(Customer.blacklisted_at.is_(None), Customer.blacklist_expires_on <= c.today)
        where.append(active if c.blacklisted else lapsed)
    if c.placeholders is not None:
        where.append(Customer.is_dummy == c.placeholders)
    if c.birth_months:
        where.append(Customer.birth_month.in_(c.birth_months))
    for column, (start, end) in (
        (Customer.created_at, c.created),
        (Customer.updated_at, c.updated),
        (Customer.last_visit_at, c.last_visit),
    ):
        if steer and (start is not None or end is not None) and column is not SORTS[c.sort.lstrip("-")]:
            column = unindexed(column)
        if start is not None:
            where.append(column >= start)
        if end is not None:
            where.append(column < end)
    if c.upcoming is not None:
        upcoming = exists().where(
            Booking.business_id == business.id,
            Booking.customer_id == Customer.id,
            Booking.status == "booked",
            Booking.starts_at >= utcnow(),
        )
        where.append(upcoming if c.upcoming else ~upcoming)
    if c.consent_preference:
        consent = [
            CustomerConsent.business_id == business.id,
            CustomerConsent.preference_id == c.consent_preference,
            CustomerConsent.opted_in.is_(c.consent != "out"),
        ]
        if c.consent_changed[0] is not None:
            consent.append(CustomerConsent.changed_at >= c.consent_changed[0])
        if c.consent_changed[1] is not None:
            consent.append(CustomerConsent.changed_at < c.consent_changed[1])
        where.append(linked(business, CustomerConsent, CustomerConsent.customer_id, *consent))
    where.extend(api_conditions(business, c))
    return where


def within(column, bounds: tuple) -> list:
    """`column` in [start, end) for the bounds given."""
    start, end = bounds
    return ([column >= start] if start is not None else []) + ([column < end] if end is not None else [])


def api_conditions(business, c: Criteria) -> list:
    """The JSON API's filters, each served by an index: customer_location's (business, location),
    the email and name search keys, booking's (business, starts_at, customer) and customer_consent's
    (business, preference, opted_in, changed_at)."""
    where = []
    if c.locations:
        where.append(
            linked(
                business,
                customer_location,
                customer_location.c.customer_id,
                customer_location.c.business_id == business.id,
                customer_location.c.location_id.in_(c.locations),
            )
        )
    if c.emails:
        where.append(Customer.email_normalized.in_(c.emails))
    if c.full_name:
        where.append(Customer.search_name == c.full_name)
    if any(c.booked):
        booked = [Booking.business_id == business.id, *within(Booking.starts_at, c.booked)]
        where.append(linked(business, Booking, Booking.customer_id, *booked))
    for preferences, opted_in, changed in (
        (c.opted_in, True, c.opted_in_changed),
        (c.opted_out, False, c.opted_out_changed),
    ):
        if preferences:
            consent = [
                CustomerConsent.business_id == business.id,
                CustomerConsent.preference_id.in_(preferences),
                CustomerConsent.opted_in.is_(opted_in),
                *within(CustomerConsent.changed_at, changed),
            ]
            where.append(linked(business, CustomerConsent, CustomerConsent.customer_id, *consent))
    return where


def order_by(sort: str, columns=None) -> list:
    """ORDER BY for a `sort` ("name", "-created", …); NULL last visits go last descending, first ascending."""
    name = sort.lstrip("-")
    descending = sort.startswith("-")
    column = (columns or {}).get(name, SORTS[name])
    tiebreak = (columns or {}).get("id", Customer.id)
    if descending:
        first = column.desc()
        if name == "last_visit" and db.engine.dialect.name == "postgresql":
            first = first.nulls_last()
        return [first, tiebreak.desc()]
    first = column.asc()
    if name == "last_visit" and db.engine.dialect.name == "postgresql":
        first = first.nulls_first()
    return [first, tiebreak.asc()]
