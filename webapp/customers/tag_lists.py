"""Each customer row's copy of its tags, for lists (`customer.tag_list`, kept by triggers).

The triggers of migration 0009 keep it in step with customer_tag and with each tag's name and colour;
`rebuild` recomputes it after a bulk load with the triggers off or raw SQL (`flask recount`), and
`list_of` is what the bulk loader writes.
"""

from sqlalchemy import String, and_, func, literal, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by

from webapp.extensions import db
from webapp.models import Customer, Tag
from webapp.models.customer import customer_tag

# "name\x1fcolor" pairs joined by \x1e: tag names cannot hold either (the tag rules collapse
# whitespace, and str.split() counts \x1c-\x1f as whitespace).
PAIR, SEPARATOR = "\x1f", "\x1e"
SQLITE_LIST_OF = (
    "(SELECT group_concat(face, char(30)) FROM (SELECT tag.name || char(31) || tag.color AS face "
    "FROM customer_tag JOIN tag ON tag.id = customer_tag.tag_id "
    "WHERE customer_tag.business_id = customer.business_id AND customer_tag.customer_id = customer.id "
    "ORDER BY tag.name))"
)


def list_of(tags) -> str | None:
    """The stored form of `tags` (objects with name and color), by name; None without tags."""
    return SEPARATOR.join(f"{t.name}{PAIR}{t.color}" for t in sorted(tags, key=lambda t: t.name)) or None


def computed():
    """A correlated expression: the tag list the triggers would store for the customer row at hand
    (the same as migration 0009's, a test checks it)."""
    if db.engine.dialect.name == "sqlite":
        # SQLite 3.40 has no ORDER BY inside an aggregate; group_concat keeps the order of an ordered
        # subquery, which must see the outer row (SQLAlchemy does not correlate a FROM subquery).
        return literal_column(SQLITE_LIST_OF)
    face = Tag.name + literal(PAIR, String) + Tag.color
    by_name = aggregate_order_by(literal(SEPARATOR, String), Tag.name.collate("C"))
    return (
        select(func.string_agg(face, by_name))
        .select_from(customer_tag)
        .join(Tag, Tag.id == customer_tag.c.tag_id)
        .where(customer_tag.c.business_id == Customer.business_id, customer_tag.c.customer_id == Customer.id)
        .scalar_subquery()
    )


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
