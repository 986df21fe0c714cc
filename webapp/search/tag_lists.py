"""Each customer row's copy of its tags, for lists (`customer.tag_list`, kept by triggers).

The triggers of migration 0009 keep it in step with customer_tag and with each tag's name and colour;
`rebuild` recomputes it after a bulk load with the triggers off or raw SQL (`flask recount`),
`list_of` is what the bulk loader writes and `chips` what a list row shows.
"""

from typing import NamedTuple

from sqlalchemy import and_, func, literal_column, or_, update

from webapp.extensions import db
from webapp.models import Customer

# "name\x1fcolor" pairs joined by \x1e: tag names cannot hold either (the tag rules collapse
# whitespace, and str.split() counts \x1c-\x1f as whitespace).
PAIR, SEPARATOR = "\x1f", "\x1e"
SQLITE_LIST_OF = (
    "(SELECT group_concat(face, char(30)) FROM (SELECT tag.name || char(31) || tag.color AS face "
    "FROM customer_tag JOIN tag ON tag.id = customer_tag.tag_id "
    "WHERE customer_tag.business_id = customer.business_id AND customer_tag.customer_id = customer.id "
    "ORDER BY tag.name))"
)


class TagChip(NamedTuple):
    """A tag as a list row shows it."""

    name: str
    color: str


def list_of(tags) -> str | None:
    """The stored form of `tags` (objects with name and color), by name; None without tags."""
    return SEPARATOR.join(f"{t.name}{PAIR}{t.color}" for t in sorted(tags, key=lambda t: t.name)) or None


def chips(packed: str | None) -> list[TagChip]:
    """The stored form back as chips, by name."""
    if not packed:
        return []
    return sorted(TagChip(*pair.split(PAIR, 1)) for pair in packed.split(SEPARATOR))


def computed():
    """A correlated expression: the tag list the triggers store for the customer row at hand.
    PostgreSQL: the triggers' own function (migration 0009). SQLite has no stored functions, so the
    triggers' subquery is written here again (a test checks that a rebuild agrees with them); SQLite
    3.40 has no ORDER BY inside an aggregate, and group_concat keeps the order of an ordered subquery,
    which must see the outer row (SQLAlchemy does not correlate a FROM subquery)."""
    if db.engine.dialect.name == "sqlite":
        return literal_column(SQLITE_LIST_OF)
    return func.customer_tag_list_of(Customer.business_id, Customer.id)


def rebuild(business_id: int | None = None) -> int:
    """Store the right tag list on every customer of one business (or all) whose stored one is wrong;
    return how many were wrong. Set-based: one UPDATE. Caller commits."""
    right = computed()
    stored = Customer.__table__.c.tag_list
    wrong = or_(
        and_(stored.is_(None), right.is_not(None)),
        and_(stored.is_not(None), right.is_(None)),
        stored != right,
    )
    scope = [Customer.business_id == business_id] if business_id is not None else []
    result = db.session.execute(
        update(Customer.__table__).where(*scope, wrong).values(tag_list=right),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
