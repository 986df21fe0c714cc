"""Deep pages of the unfiltered customer list, found from trigger-kept bucket counts instead of OFFSET.

A plain OFFSET walks every index entry before the page (600,000 at page 20,000: 35 ms on SQLite,
50 ms on PostgreSQL). `customer_rank_bucket` counts the live customers per name prefix (first three
characters of search_name) and per UTC creation day. One statement sums those counts in the list's
order, picks the bucket that holds the offset, seeks into the sort's index where that bucket starts
and skips only the rows before the page inside it (1-3 ms).

Exact because bucket order is index order: a bucket's customers sit together in the index, after
every smaller bucket's. Prefixes keep the order of the strings under byte (code point) order, which
SQLite's BINARY and PostgreSQL's C / C.UTF-8 collations use; days keep it under any collation.
"""

from sqlalchemy import Date, DateTime, Integer, cast, delete, func, insert, literal, literal_column, select

from webapp.extensions import db
from webapp.models import Customer, customer_rank_bucket
from webapp.search.conditions import SORTS, base_conditions, order_by
from webapp.search.criteria import Criteria
from webapp.text import TOP

# A plain OFFSET costs 0.05 µs (SQLite) to 0.1 µs (PostgreSQL) an index entry; the bucket statement
# a fixed 0.5-2 ms (it sums up to a few thousand bucket counts). Up to here (page 667 at 30 a page)
# OFFSET costs 1-2 ms as well, and is exact by definition, so it keeps those pages.
DEEP_FROM = 20_000

# The bucket of a customer row, per engine and sort (the triggers of migration 0006_rank_buckets use
# the same expressions; SQLite keeps created_at as UTC text "YYYY-MM-DD HH:MM:SS.ffffff").
BUCKETS = {
    "sqlite": {
        "name": "substr(customer.search_name, 1, 3)",
        "created": "substr(customer.created_at, 1, 10)",
    },
    "postgresql": {
        "name": "left(customer.search_name, 3)",
        "created": "to_char(customer.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    },
}


def applies(c: Criteria) -> bool:
    """True for a deep page of the whole book in a bucketed sort (name or created, either way)."""
    bucketed = c.sort.lstrip("-") in BUCKETS[db.engine.dialect.name]
    return not c.filtered and not c.q and bucketed and (c.page - 1) * c.limit >= DEEP_FROM


def keys_page(business, c: Criteria, key):
    """The page's `c.limit + 1` keys (a subquery with one column, `key`), the same rows in the same
    order as OFFSET would give. Past the end no bucket is picked, so the seek bound is NULL: no rows."""
    name = c.sort.lstrip("-")
    descending = c.sort.startswith("-")
    postgresql = db.engine.dialect.name == "postgresql"
    t = customer_rank_bucket
    offset = literal((c.page - 1) * c.limit, Integer)
    order = t.c.bucket.desc() if descending else t.c.bucket.asc()
    columns = [t.c.bucket, t.c.n, func.sum(t.c.n).over(order_by=order, rows=(None, 0)).label("upto")]
    if name == "name" and descending:
        columns.append(func.lag(t.c.bucket).over(order_by=order).label("above"))  # the next bucket up
    running = select(*columns).where(t.c.business_id == business.id, t.c.sort == name).cte("rank_running")
    pick = (
        select(
            seek_bound(name, descending, postgresql, running.c).label("bound"),
            (running.c.upto - running.c.n).label("before"),
        )
        .where(running.c.upto > offset)
        .order_by(running.c.bucket.desc() if descending else running.c.bucket)
        .limit(1)
        .cte("rank_pick")
        .prefix_with("MATERIALIZED")  # computed once, one snapshot for the bound and the offset
    )
    column = SORTS[name]
    bound = select(pick.c.bound).scalar_subquery()
    inside = func.coalesce(select(offset - pick.c.before).scalar_subquery(), 0)
    return (
        select(key.label("key"))
        .where(*base_conditions(business, c), column < bound if descending else column >= bound)
        .order_by(*order_by(c.sort))
        .limit(c.limit + 1)
        .offset(inside)
        .subquery()
    )


def seek_bound(name: str, descending: bool, postgresql: bool, bucket):
    """Where the picked bucket's rows start in the sort's index: ascending, its first value (`>=`);
    descending, the first value above it (`<`). A day ends where the next one starts; a name prefix
    where the next bucket present begins (none with customers lies between), or nowhere at the top."""
    if name == "name":
        return func.coalesce(bucket.above, TOP) if descending else bucket.bucket
    if not postgresql:  # text: "2026-11-22" sorts before every time on that day
        return func.date(bucket.bucket, "+1 day") if descending else bucket.bucket
    day = cast(bucket.bucket, Date)
    return func.timezone("UTC", cast(day + 1 if descending else day, DateTime))


def rebuild(business_id: int | None = None) -> int:
    """Recount the buckets of one business (or all) from the customers, after a bulk load with the
    triggers off, raw SQL or a TRUNCATE; returns how many buckets were wrong. Caller commits."""
    t = customer_rank_bucket
    scope = [] if business_id is None else [t.c.business_id == business_id]
    before = stored_counts(scope)
    db.session.execute(delete(t).where(*scope))
    for sort, expression in BUCKETS[db.engine.dialect.name].items():
        bucket = literal_column(expression)
        counted = (
            select(Customer.business_id, literal(sort), bucket, func.count())
            .where(Customer.merged_into_id.is_(None))
            .group_by(Customer.business_id, bucket)
        )
        if business_id is not None:
            counted = counted.where(Customer.business_id == business_id)
        db.session.execute(insert(t).from_select(["business_id", "sort", "bucket", "n"], counted))
    after = stored_counts(scope)
    return sum(before.get(k) != after.get(k) for k in before.keys() | after.keys())


def stored_counts(scope: list) -> dict:
    """{(business_id, sort, bucket): n} of the non-empty buckets in `scope`."""
    t = customer_rank_bucket
    rows = db.session.execute(select(t.c.business_id, t.c.sort, t.c.bucket, t.c.n).where(t.c.n != 0, *scope))
    return {(b, s, k): n for b, s, k, n in rows}
