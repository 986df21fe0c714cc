"""Finding customers: matching tiers ranked best first, filters, sorts, pages and capped counts.

Every ordinary query is an index range scan: name, reversed name, phone digits, email and company
keys (see `keys.py`), with contains-matches through SQLite FTS5 (trigram) or PostgreSQL pg_trgm.
One statement returns a page of ranked customers with a capped count; tags come in one more.
"""

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from flask import g
from sqlalchemy import (
    and_,
    case,
    column,
    event,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.orm import lazyload, load_only

from webapp.customers.criteria import Criteria
from webapp.customers.filters import base_conditions, order_by
from webapp.customers.keys import fold, fold_fragment, search_keys
from webapp.database import utcnow
from webapp.extensions import db
from webapp.formatting import phone_format
from webapp.models import Booking, Customer, Tag
from webapp.models.customer import customer_location, customer_tag

COUNT_CAP = 1000  # a list is counted exactly up to here; beyond it the screen says "1,000+"
SEARCH_CAP = 100  # a typed search ranks (and counts) its best 100 matches: "100+ customers"
TOP = "\U0010ffff"  # sorts after every character: [prefix, prefix + TOP) is a prefix range
# A trigram index can only narrow a contains-match through three letters or digits in a row
# (pg_trgm splits on everything else): a fragment like "@@@" or "a.b" alone would scan every row.
INDEXABLE = re.compile(r"[^\W_]{3}")
PHONE_LIKE = re.compile(r"[\d\s\-+().\/]+")
# Ranks, best first.
EXACT_PHONE, EXACT_EMAIL, PHONE_PREFIX, NAME, LAST_NAME, EMAIL, COMPANY, CONTAINS = range(8)


@dataclass
class Results:
    """One page of customers, with a count that is exact up to `cap`."""

    customers: list
    count: int
    capped: bool
    page: int
    limit: int
    has_next: bool
    cap: int = COUNT_CAP  # where exact counting stops
    ranks: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)  # customer id -> [(name, color)]

    @property
    def count_label(self) -> str:
        """ "1 customer", "37 customers", "1,000+ customers"."""
        if self.capped:
            return f"{self.cap:,}+ customers"
        return f"{self.count:,} customer{'' if self.count == 1 else 's'}"


# --- showing rows ---------------------------------------------------------------------------------


@lru_cache(maxsize=50_000)
def _phone_for(e164: str, region: str) -> str:
    return phone_format(e164)  # reads the business's region, which is part of the cache key


def phone_cell(e164: str | None) -> str:
    """The `phone` filter for result rows, remembered per number and region: formatting is the
    costliest part of drawing a row, and the desk meets the same regulars all day."""
    business = g.get("business")
    return _phone_for(e164, business.phone_region) if e164 and business is not None else phone_format(e164)


# --- keeping the keys in step ---------------------------------------------------------------------


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _refresh_keys(mapper, connection, customer: Customer) -> None:
    """Recompute the search columns from the stored fields whenever the ORM writes a customer."""
    keys = search_keys(
        customer.first_name,
        customer.last_name,
        customer.dummy_label,
        customer.email_normalized,
        customer.phone,
        customer.company,
    )
    keys["birth_month"] = customer.date_of_birth.month if customer.date_of_birth else None
    for name, value in keys.items():
        if getattr(customer, name, None) != value:
            setattr(customer, name, value)


# --- conditions -----------------------------------------------------------------------------------


def prefix(key, value: str):
    """`key` starts with `value`, as an index range (no LIKE, so no escaping and any engine)."""
    return and_(key >= value, key < value + TOP)


def like_escape(value: str) -> str:
    """`value` with LIKE's wildcards escaped (escape character: backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def words_like(key, words: list[str]):
    """Each word starts a word of `key`, in this order ("jo smi" ~ "john smith")."""
    return key.like(" ".join(like_escape(w) + "%" for w in words), escape="\\")


def contains_condition(fragments: list[str]):
    """Every fragment occurs in search_text, answered by the engine's trigram index."""
    if db.engine.dialect.name == "sqlite":
        query = " ".join('"' + f.replace('"', '""') + '"' for f in fragments)
        fts = table("customer_fts", column("rowid"))
        matches = select(fts.c.rowid).where(literal_column("customer_fts").op("MATCH")(query))
        return literal_column("customer.rowid").in_(matches)
    return and_(*(Customer.search_text.like(f"%{like_escape(f)}%", escape="\\") for f in fragments))


def name_words_tier(words: list[str]) -> tuple:
    """Words that each start a name word, in typed order ("jo smi", "maria gar"), first-last or last-first.

    With every word 3+ letters long the trigram index finds the rows holding all of them, and a CASE
    ranks true name matches above mere contains-matches; with a shorter word, the longest word's range
    on the name keys is scanned instead (index-only, filtered in the index)."""
    first, last, rest = words[0], words[-1], words[:-1]
    as_name = or_(
        words_like(Customer.search_name, words), words_like(Customer.search_name_rev, [last, *rest])
    )
    if all(len(w) >= 3 for w in words):
        return (case((as_name, NAME), else_=CONTAINS), contains_condition(words), None)
    if len(last) >= len(first):
        by_last = and_(
            prefix(Customer.search_name_rev, last), words_like(Customer.search_name_rev, [last, *rest])
        )
        return (NAME, by_last, Customer.search_name_rev)
    return (NAME, and_(prefix(Customer.search_name, first), words_like(Customer.search_name, words)), None)


def tiers(q: str) -> list[tuple[int, object, object]]:
    """(rank, condition, order) for every way `q` can match; each is one index range."""
    out: list[tuple[int, object, object]] = []
    digits = re.sub(r"\D", "", q)
    if PHONE_LIKE.fullmatch(q) and len(digits) >= 3:
        if q.lstrip().startswith(("+", "00")):
            full = "+" + (digits[2:] if q.lstrip().startswith("00") else digits)
            out.append((EXACT_PHONE, Customer.phone == full, Customer.phone))
            out.append((PHONE_PREFIX, prefix(Customer.phone, full), Customer.phone))
        else:
            national = digits.lstrip("0") or digits
            out.append((EXACT_PHONE, Customer.search_phone == national, Customer.search_phone))
            out.append((PHONE_PREFIX, prefix(Customer.search_phone, national), Customer.search_phone))
        out.append((CONTAINS, contains_condition([digits.lstrip("0") or digits]), None))
        return out
    lowered = q.strip().lower()
    if "@" in lowered and " " not in lowered:
        out.append((EXACT_EMAIL, Customer.email_normalized == lowered, Customer.email_normalized))
    words = fold(q).split()
    if words:
        phrase = " ".join(words)
        out.append((NAME, prefix(Customer.search_name, phrase), Customer.search_name))
        out.append((LAST_NAME, prefix(Customer.search_name_rev, phrase), Customer.search_name_rev))
        if len(words) > 1:
            out.append(name_words_tier(words))
        out.append((COMPANY, prefix(Customer.search_company, phrase), Customer.search_company))
    if lowered and " " not in lowered and "@" not in lowered[:1]:
        out.append((EMAIL, prefix(Customer.email_normalized, lowered), Customer.email_normalized))
    fragments = [f for f in (fold_fragment(w) for w in q.split()) if len(f) >= 3]
    if any(INDEXABLE.search(f) for f in fragments):
        out.append((CONTAINS, contains_condition(fragments), None))
    return out


LIST_COLUMNS = (
    Customer.business_id,
    Customer.first_name,
    Customer.last_name,
    Customer.email,
    Customer.phone,
    Customer.company,
    Customer.is_dummy,
    Customer.dummy_label,
    Customer.anonymized_at,
    Customer.merged_into_id,
    Customer.blacklisted_at,
    Customer.blacklist_level,
    Customer.blacklist_reason,
    Customer.blacklist_expires_on,
    Customer.total_bookings,
    Customer.no_shows,
    Customer.last_visit_at,
    Customer.total_spent,
    Customer.version,
)


LIST_OPTIONS = (
    load_only(*LIST_COLUMNS),
    lazyload(Customer.tags),
    lazyload(Customer.locations),
    lazyload(Customer.consents),
)


def load_options():
    """Customers for a list: the columns a row shows, no collection (`page_tags` has the tags)."""
    return LIST_OPTIONS


def page_tags(business, customers: list) -> dict:
    """{customer id: [(name, color), …]} for a page, in ONE query led by business_id (the link key)."""
    if not customers:
        return {}
    rows = db.session.execute(
        select(customer_tag.c.customer_id, Tag.name, Tag.color)
        .join(Tag, Tag.id == customer_tag.c.tag_id)
        .where(
            customer_tag.c.business_id == business.id,
            customer_tag.c.customer_id.in_([c.id for c in customers]),
        )
        .order_by(Tag.name)
    ).all()
    tags: dict = {}
    for row in rows:
        tags.setdefault(row.customer_id, []).append(row)
    return tags


# --- the two shapes of query ----------------------------------------------------------------------


def find_customers(business, c: Criteria, *, with_count: bool = True) -> Results:
    """The page of customers `c` asks for: ranked matches when it has a query, a sorted list otherwise."""
    if c.q:
        return ranked_search(business, c, with_count=with_count)
    return sorted_list(business, c, with_count=with_count)


def row_key():
    """The narrowest unique key every customer index carries: SQLite's rowid, PostgreSQL's id."""
    if db.engine.dialect.name == "sqlite":
        return literal_column("customer.rowid")
    return Customer.id


def load_page(page, key_column, ordering) -> list:
    """The customers whose keys are in `page` (a subquery), in `ordering`, with their tags."""
    stmt = (
        select(Customer, *page.c)
        .join(page, page.c.key == key_column)
        .order_by(*ordering)
        .options(*load_options())
    )
    return db.session.execute(stmt).unique().all()


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


def sorted_list(business, c: Criteria, *, with_count: bool) -> Results:
    """A sorted, filtered page; its keys come from an index-only scan, so page 20,000 stays cheap."""
    where = base_conditions(business, c)
    offset = (c.page - 1) * c.limit
    key = row_key()
    count, capped = 0, False
    if with_count:
        counted = db.session.scalar(select(func.count()).select_from(counting(business, c, where, key)))
        count, capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    if capped and any(c.created + c.updated + c.last_visit):
        where = base_conditions(business, c, steer=True)  # a wide date range: see `unindexed`
    page = (
        select(key.label("key"))
        .where(*where)
        .order_by(*order_by(c.sort))
        .limit(c.limit + 1)
        .offset(offset)
        .subquery()
    )
    rows = load_page(page, key, order_by(c.sort))
    customers = [r[0] for r in rows][: c.limit + 1]
    shown = customers[: c.limit]
    return Results(
        shown,
        count,
        capped,
        c.page,
        c.limit,
        len(customers) > c.limit,
        COUNT_CAP,
        {},
        page_tags(business, shown),
    )


def ranked_search(business, c: Criteria, *, with_count: bool) -> Results:
    """Matches of `c.q`, best tier first, in ONE statement: each tier is a capped index range, and
    ranking, counting and paging happen on narrow (key, rank, sort key) rows before any customer is read."""
    where = base_conditions(business, c)
    offset = (c.page - 1) * c.limit
    cap = SEARCH_CAP + 1 if with_count else offset + c.limit + 1
    key = row_key()
    ranges, trigram = [], []
    for rank, condition, order in tiers(c.q):
        sort_key = order if order is not None else Customer.search_name
        rank_column = literal(rank) if isinstance(rank, int) else rank
        part = select(key.label("key"), rank_column.label("rank"), sort_key.label("k"))
        part = part.where(*where, condition)
        if order is not None:
            part = part.order_by(order)
        (ranges if order is not None else trigram).append(select(part.limit(cap).subquery()))
    if not ranges and not trigram:
        return Results([], 0, False, c.page, c.limit, False, SEARCH_CAP)
    matched = union_all(*ranges, *trigram).subquery() if c.sort_given or not (ranges and trigram) else None
    if matched is None:
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
    columns = [best.c.key, best.c.rank, best.c.k]
    if with_count:
        columns.append(func.count().over().label("total"))
    if c.sort_given:
        page = select(*columns, key.label("sort_key")).join(Customer, key == best.c.key)
        page = page.order_by(*order_by(c.sort, {"id": key})).limit(c.limit + 1).offset(offset).subquery()
        ordering = order_by(c.sort)
    else:
        page = select(*columns).order_by(best.c.rank, best.c.k, best.c.key)
        page = page.limit(c.limit + 1).offset(offset).subquery()
        ordering = [page.c.rank, page.c.k, page.c.key]
    rows = load_page(page, key, ordering)
    total = rows[0].total if rows and with_count else 0
    if with_count and not rows and offset:
        total = db.session.scalar(select(func.count()).select_from(best)) or 0
    customers = [r[0] for r in rows]
    return Results(
        customers[: c.limit],
        min(total, SEARCH_CAP),
        total > SEARCH_CAP,
        c.page,
        c.limit,
        len(customers) > c.limit,
        SEARCH_CAP,
        {r[0].id: r.rank for r in rows},
        page_tags(business, customers[: c.limit]),
    )
