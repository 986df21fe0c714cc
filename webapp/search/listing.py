"""A list without a query: filtered, sorted, paged by index, with a count exact up to COUNT_CAP."""

from dataclasses import replace

from sqlalchemy import exists, func, select

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import Booking, Customer
from webapp.models.customer import customer_location, customer_tag
from webapp.search import deep_pages
from webapp.search.conditions import base_conditions, order_by
from webapp.search.criteria import Criteria
from webapp.search.rows import Results, row_key, row_select, rows_to_customers

COUNT_CAP = 1000  # a list is counted exactly up to here; beyond it the screen says "1,000+"


def counting(business, c: Criteria, where: list, key):
    """The first COUNT_CAP + 1 matching keys, by the cheapest road: from a tag's or location's link
    rows when the list is filtered by one (a thousand lookups instead of probing every customer in
    turn), along the sort's covering index when only EXISTS-style filters apply, else as planned."""
    if c.tags or c.location:  # (tags first, then location: one link table leads)
        link = customer_tag if c.tags else customer_location
        chosen = link.c.tag_id.in_(c.tags) if c.tags else link.c.location_id == c.location
        rest = base_conditions(business, replace(c, tags=[]) if c.tags else replace(c, location=None))
        keys = (
            select(key.label("key"))
            .select_from(link)
            .join(Customer, Customer.id == link.c.customer_id)
            .where(link.c.business_id == business.id, chosen, *rest)
            .distinct()
        )
        return keys.limit(COUNT_CAP + 1).subquery()
    if c.upcoming:
        # Booking is the only table in FROM, so every engine walks the booked future bookings and
        # looks each customer up, instead of probing the bookings of every customer in turn.
        rest = base_conditions(business, replace(c, upcoming=None))
        keys = (
            select(Booking.customer_id.label("key"))
            .where(
                Booking.business_id == business.id, Booking.status == "booked", Booking.starts_at >= utcnow()
            )
            .where(exists().where(Customer.id == Booking.customer_id, *rest))
            .distinct()
        )
        return keys.limit(COUNT_CAP + 1).subquery()
    keys = select(key.label("key")).where(*where).limit(COUNT_CAP + 1)
    if not (c.blacklisted is not None or c.birth_months or any(c.created + c.updated + c.last_visit)):
        keys = keys.order_by(*order_by(c.sort))
    return keys.subquery()


def sorted_list(business, c: Criteria, *, with_count: bool, columns: tuple = ()) -> Results:
    """A sorted, filtered page: its keys come from an index-only scan of the sort's index, or for a
    deep page of the whole book from a seek into it (`deep_pages`), then 31 customers are read by key."""
    where = base_conditions(business, c)
    offset = (c.page - 1) * c.limit
    key = row_key()
    count, capped = 0, False
    if with_count:
        counted = db.session.scalar(select(func.count()).select_from(counting(business, c, where, key)))
        count, capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    if capped and any(c.created + c.updated + c.last_visit):
        where = base_conditions(business, c, steer=True)  # a wide date range: see `unindexed`
    if deep_pages.applies(c):  # page 20,000: seek from bucket counts instead of walking 600,000 keys
        page = deep_pages.keys_page(business, c, key)
    else:
        page = (
            select(key.label("key"))
            .where(*where)
            .order_by(*order_by(c.sort))
            .limit(c.limit + 1)
            .offset(offset)
            .subquery()
        )
    rows = db.session.connection().execute(row_select(page, key, order_by(c.sort), columns))
    customers, tags = rows_to_customers(rows)
    shown = customers[: c.limit]
    return Results(shown, count, capped, c.page, c.limit, len(customers) > c.limit, COUNT_CAP, {}, tags)
