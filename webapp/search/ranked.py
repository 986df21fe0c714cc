"""A typed search: the matches of a query, best tier first (or in the sort asked for), one page of
them with their tags and a count capped at SEARCH_CAP, in ONE statement."""

from dataclasses import replace

from webapp.extensions import db
from webapp.search import prepared
from webapp.search.conditions import base_conditions
from webapp.search.criteria import Criteria
from webapp.search.rows import Results, rows_to_customers
from webapp.search.statements import ranked_statement, shared_statement
from webapp.search.tiers import tiers

SEARCH_CAP = 100  # a typed search ranks (and counts) its best 100 matches: "100+ customers"


def ranked_search(business, c: Criteria, *, with_count: bool, columns: tuple = ()) -> Results:
    """Matches of `c.q`, best tier first (or in `c.sort`), in ONE statement with their tags."""
    found = tiers(c.q, business.phone_region)
    if not found:
        return Results([], 0, False, c.page, c.limit, False, SEARCH_CAP)
    dialect = db.engine.dialect.name
    offset = (c.page - 1) * c.limit
    # Tiers of the same shape share a statement; their values only fill its parameters.
    shape = tuple(replace(t, values=("",) * len(t.values), starts=("",) * len(t.starts)) for t in found)
    sort = c.sort if c.sort_given else None
    shared = not c.filtered
    if shared:
        statement = shared_statement(dialect, shape, sort, with_count, columns)
    else:
        statement = ranked_statement(shape, base_conditions(business, c), sort, with_count, columns)
    params = bind_values(business, c, found, dialect, with_count=with_count, sorted_=sort is not None)

    def ordinary():  # Core, not the ORM's execute: these are rows, not entities (0.4 ms less)
        return db.session.connection().execute(statement.page, params).all()

    if shared and prepared.enabled():  # PostgreSQL: prepared, one generic plan per shape (`prepared`)
        rows = prepared.fetch(statement.prepared, params, ordinary)
    else:
        rows = ordinary()
    customers, tags = rows_to_customers(rows)
    total = rows[0].total if rows and with_count else 0
    if with_count and not rows and offset:
        total = db.session.scalar(statement.count, params) or 0
    return Results(
        customers[: c.limit],
        min(total, SEARCH_CAP),
        total > SEARCH_CAP,
        c.page,
        c.limit,
        len(customers) > c.limit,
        SEARCH_CAP,
        {customer.id: row.rank for customer, row in zip(customers, rows, strict=True)},
        tags,
    )


def bind_values(business, c: Criteria, found: list, dialect: str, *, with_count: bool, sorted_: bool) -> dict:
    """The values a ranked statement binds: the business, cap, limit, offset and every tier's values."""
    offset = (c.page - 1) * c.limit
    params = {
        "business_id": business.id,
        # A sorted search sorts the best SEARCH_CAP + 1 on every page, so its pages agree.
        "cap": SEARCH_CAP + 1 if with_count or sorted_ else offset + c.limit + 1,
        "limit": c.limit + 1,
        "offset": offset,
    }
    for i, tier in enumerate(found):
        params.update({f"t{i}_{j}": value for j, value in enumerate(tier.binds(dialect))})
    return params
