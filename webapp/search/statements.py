"""Tiers as SQL: one ranked statement per query shape (built once, then reused with new values).

Each tier is a capped index range (or one trigram lookup); ranking, counting and paging happen on
narrow (key, rank, sort key) rows before any customer is read.
"""

from dataclasses import dataclass
from functools import cached_property, lru_cache

from sqlalchemy import (
    and_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union_all,
)

from webapp.extensions import db
from webapp.models import Customer
from webapp.search import prepared
from webapp.search.conditions import order_by
from webapp.search.rows import row_key, row_select
from webapp.search.tiers import CONTAINS, NAME, Tier


def starts_conditions(patterns: list) -> list:
    """Each short word (a pair of bound patterns, `tiers.starts_binds`) starts a word of search_text:
    a filter on the rows the trigram fragments narrowed to, never a lookup of its own."""
    text = Customer.search_text
    return [
        or_(text.like(patterns[i], escape="\\"), text.like(patterns[i + 1], escape="\\"))
        for i in range(0, len(patterns), 2)
    ]


def contains_part(columns: list, fragments: list, where: list):
    """SELECT `columns` of the live customers whose search_text holds every fragment (bound values).

    SQLite: driven FROM the FTS5 trigram table, so rows stream out of the index and the tier's LIMIT
    stops the lookup early (an `IN (SELECT … MATCH)` would first collect every match: 68,000 rowids
    for "mar"). PostgreSQL: LIKEs that the pg_trgm GIN index answers."""
    if db.engine.dialect.name == "sqlite":
        fts = table("customer_fts", column("rowid"))
        return (
            select(*columns)
            .select_from(fts)
            .join(Customer, literal_column("customer.rowid") == fts.c.rowid)
            .where(literal_column("customer_fts").op("MATCH")(fragments[0]), *where)
        )
    matches = [Customer.search_text.like(f, escape="\\") for f in fragments]
    return select(*columns).where(*where, *matches)


def tier_part(i: int, tier: Tier, where: list, key, cap):
    """The capped SELECT (key, rank, k) for tier number `i`, its values bound as t{i}_0, t{i}_1, …"""
    v = [bindparam(f"t{i}_{j}") for j in range(len(tier.binds(db.engine.dialect.name)))]
    if tier.how in ("contains", "words"):
        rank = literal_column(str(tier.rank))
        split = len(v) - 2 * len(tier.starts)
        fragments, where = v[:split], [*where, *starts_conditions(v[split:])]
        if tier.how == "words":
            as_name = or_(
                Customer.search_name.like(v[0], escape="\\"), Customer.search_name_rev.like(v[1], escape="\\")
            )
            rank, fragments = case((as_name, NAME), else_=CONTAINS), v[2:]
        columns = [key.label("key"), rank.label("rank"), Customer.search_name.label("k")]
        return contains_part(columns, fragments, where).limit(cap)
    column_ = getattr(Customer, tier.key)
    if tier.how == "=":
        condition = column_ == v[0]
    else:
        condition = and_(column_ >= v[0], column_ < v[1])  # a prefix, as an index range (no LIKE)
        if tier.how == "^~":
            condition = and_(condition, column_.like(v[2], escape="\\"))
    columns = [key.label("key"), literal_column(str(tier.rank)).label("rank"), column_.label("k")]
    return select(*columns).where(*where, condition).order_by(column_).limit(cap)


@dataclass(frozen=True)
class Ranked:
    """A ranked search's statement for one query shape, and the count it falls back on past the end."""

    page: object
    count: object

    @cached_property
    def prepared(self) -> prepared.Prepared:
        """The page statement in the form PostgreSQL's PREPARE takes (for shared statements only)."""
        return prepared.prepare(self.page)


def ranked_statement(
    shape: tuple, where: list, sort: str | None, with_count: bool, more: tuple = ()
) -> Ranked:
    """ONE statement for queries of `shape` (their tiers' rank, key, how and number of values): each
    tier is a capped index range; ranking, counting and paging happen on narrow (key, rank, sort key)
    rows before any customer is read. Values, the business, cap, limit and offset are bound later.
    `more`: customer columns read besides LIST_COLUMNS."""
    key = row_key()
    cap = bindparam("cap")
    ranges, trigram = [], []
    for i, tier in enumerate(shape):
        part = tier_part(i, tier, where, key, cap)
        (trigram if tier.how in ("contains", "words") else ranges).append(select(part.subquery()))
    if not (ranges and trigram):
        matched = union_all(*ranges, *trigram).subquery()
    else:
        # The trigram tiers only rank below the index ranges: when those already found `cap` customers,
        # the page and the capped count are the same without them, so the engine skips them.
        first = union_all(*ranges).cte("first_tiers").prefix_with("MATERIALIZED")
        enough = select(func.count(func.distinct(first.c.key))).scalar_subquery() >= cap
        later = [select(t.subquery()).where(~enough) for t in trigram]
        matched = union_all(select(first), *later).subquery()
    best = (
        select(matched.c.key, func.min(matched.c.rank).label("rank"), func.min(matched.c.k).label("k"))
        .group_by(matched.c.key)
        .subquery()
    )
    limit, offset = bindparam("limit"), bindparam("offset")
    if sort is not None:
        # The best `cap` matches (what "the best 100 are listed" promises), then in the order asked for:
        # sorting every tier's candidates instead would list whichever contains-matches came first.
        best = select(best).order_by(best.c.rank, best.c.k, best.c.key).limit(cap).subquery()
    columns = [best.c.key, best.c.rank, best.c.k]
    if with_count:
        columns.append(func.count().over().label("total"))
    if sort is not None:
        page = select(*columns, key.label("sort_key")).join(Customer, key == best.c.key)
        page = page.order_by(*order_by(sort, {"id": key})).limit(limit).offset(offset).subquery()
        ordering = order_by(sort)
    else:
        page = select(*columns).order_by(best.c.rank, best.c.k, best.c.key)
        page = page.limit(limit).offset(offset).subquery()
        ordering = [page.c.rank, page.c.k, page.c.key]
    extra = [*more, page.c.rank] + ([page.c.total] if with_count else [])
    return Ranked(row_select(page, key, ordering, extra), select(func.count()).select_from(best))


@lru_cache(maxsize=512)
def shared_statement(
    dialect: str, shape: tuple, sort: str | None, with_count: bool, more: tuple = ()
) -> Ranked:
    """`ranked_statement` for an unfiltered search, built once per shape and engine: SQLAlchemy then
    finds its compiled SQL by the statement's memoized cache key instead of walking a new tree."""
    where = [Customer.business_id == bindparam("business_id"), Customer.merged_into_id.is_(None)]
    return ranked_statement(shape, where, sort, with_count, more)
