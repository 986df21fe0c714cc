"""Finding customers: matching tiers ranked best first, filters, sorts, pages and capped counts.

Every ordinary query is an index range scan: name, reversed name, phone digits, email and company
keys (see `keys.py`), with contains-matches through SQLite FTS5 (trigram) or PostgreSQL pg_trgm.
One statement returns a page of ranked customers with a capped count; tags come in one more.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    and_,
    case,
    event,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from webapp.customers.criteria import Criteria
from webapp.customers.keys import fold, fold_fragment, search_keys
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import Booking, Customer, Tag
from webapp.models.customer import CustomerConsent, customer_location, customer_tag

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COUNT_CAP = 1000  # a list is counted exactly up to here; beyond it the screen says "1,000+"
SEARCH_CAP = 100  # a typed search ranks (and counts) its best 100 matches: "100+ customers"
TOP = "\U0010ffff"  # sorts after every character: [prefix, prefix + TOP) is a prefix range
PHONE_LIKE = re.compile(r"[\d\s\-+().\/]+")
SORTS = {
    "name": Customer.search_name,
    "created": Customer.created_at,
    "updated": Customer.updated_at,
    "last_visit": Customer.last_visit_at,
    "total_bookings": Customer.total_bookings,
    "total_spent": Customer.total_spent,
    "points": Customer.points_balance,
}
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

    @property
    def count_label(self) -> str:
        """ "1 customer", "37 customers", "1,000+ customers"."""
        if self.capped:
            return f"{self.cap:,}+ customers"
        return f"{self.count:,} customer{'' if self.count == 1 else 's'}"


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
    for name, value in keys.items():
        if getattr(customer, name, None) != value:
            setattr(customer, name, value)


# --- conditions -----------------------------------------------------------------------------------


def prefix(column, value: str):
    """`column` starts with `value`, as an index range (no LIKE, so no escaping and any engine)."""
    return and_(column >= value, column < value + TOP)


def like_escape(value: str) -> str:
    """`value` with LIKE's wildcards escaped (escape character: backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def words_like(column, words: list[str]):
    """Each word starts a word of `column`, in this order ("jo smi" ~ "john smith")."""
    return column.like(" ".join(like_escape(w) + "%" for w in words), escape="\\")


def contains_condition(fragments: list[str]):
    """Every fragment occurs in search_text, answered by the engine's trigram index."""
    if db.engine.dialect.name == "sqlite":
        query = " ".join('"' + f.replace('"', '""') + '"' for f in fragments)
        fts = text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH :fts_query").bindparams(
            fts_query=query
        )
        return literal_column("customer.rowid").in_(fts)
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
    if fragments:
        out.append((CONTAINS, contains_condition(fragments), None))
    return out


# --- filters and sorts ----------------------------------------------------------------------------


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


def base_conditions(business, c: Criteria) -> list:
    """Business scope, live customers only, and every filter of `c`."""
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
        where.append(func.extract("month", Customer.date_of_birth).in_(c.birth_months))
    for column, (start, end) in (
        (Customer.created_at, c.created),
        (Customer.updated_at, c.updated),
        (Customer.last_visit_at, c.last_visit),
    ):
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


def load_options():
    """Customers for a list: no collection loaded with them (`attach_tags` adds the tags)."""
    return (lazyload(Customer.tags), lazyload(Customer.locations), lazyload(Customer.consents))


def attach_tags(business, customers: list) -> None:
    """Load the tags of a page of customers in ONE query led by business_id (the link table's key)."""
    if not customers:
        return
    rows = db.session.execute(
        select(customer_tag.c.customer_id, Tag)
        .join(Tag, Tag.id == customer_tag.c.tag_id)
        .where(
            customer_tag.c.business_id == business.id,
            customer_tag.c.customer_id.in_([c.id for c in customers]),
        )
        .order_by(Tag.name)
    ).all()
    by_customer: dict = {}
    for customer_id, tag in rows:
        by_customer.setdefault(customer_id, []).append(tag)
    for customer in customers:
        set_committed_value(customer, "tags", by_customer.get(customer.id, []))


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


def sorted_list(business, c: Criteria, *, with_count: bool) -> Results:
    """A sorted, filtered page; its keys come from an index-only scan, so page 20,000 stays cheap."""
    where = base_conditions(business, c)
    offset = (c.page - 1) * c.limit
    key = row_key()
    page = (
        select(key.label("key"))
        .where(*where)
        .order_by(*order_by(c.sort))
        .limit(c.limit + 1)
        .offset(offset)
        .subquery()
    )
    rows = load_page(page, key, order_by(c.sort))
    count, capped = 0, False
    if with_count:
        counting = select(key.label("key")).where(*where).limit(COUNT_CAP + 1)
        if not (c.blacklisted is not None or c.birth_months or any(c.created + c.updated + c.last_visit)):
            # Only EXISTS-style filters: walk the sort's covering index, as the page does, rather than
            # let the planner pick an index that needs a table read per row.
            counting = counting.order_by(*order_by(c.sort))
        counted = db.session.scalar(select(func.count()).select_from(counting.subquery()))
        count, capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    customers = [r[0] for r in rows]
    attach_tags(business, customers[: c.limit])
    return Results(customers[: c.limit], count, capped, c.page, c.limit, len(customers) > c.limit, COUNT_CAP)


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
    attach_tags(business, customers[: c.limit])
    return Results(
        customers[: c.limit],
        min(total, SEARCH_CAP),
        total > SEARCH_CAP,
        c.page,
        c.limit,
        len(customers) > c.limit,
        SEARCH_CAP,
        {r[0].id: r.rank for r in rows},
    )
