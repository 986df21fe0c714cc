"""Finding customers: one plain call, `search_customers`, behind the list, the picker, merge and the API.

A query is matched through ranked tiers of index ranges (`tiers`, `statements`, `ranked`); no query
gives a filtered, sorted list (`listing`, `deep_pages`). Either way one page of light rows comes back
(`rows.Results`) with a capped count. The list screen reads its ask from a query string with
`read_criteria`; every other caller passes plain values.
"""

from dataclasses import fields

from webapp.errors import Invalid
from webapp.search.card_codes import card_holder_search
from webapp.search.criteria import SORT_ALIASES, SORT_NAMES, Criteria, Filters, clean_query, read_criteria
from webapp.search.listing import sorted_list
from webapp.search.ranked import ranked_search
from webapp.search.rows import CustomerRow, Results

__all__ = [
    "Criteria",
    "CustomerRow",
    "Filters",
    "Results",
    "read_criteria",
    "search_criteria",
    "search_customers",
]


def search_customers(
    business,
    query: str = "",
    filters: Filters | None = None,
    sort: str | None = None,
    page: int = 1,
    limit: int = 30,
    with_count: bool = True,
    columns: tuple = (),
) -> Results:
    """One page of `business`'s live customers: matches of `query` best first (or in `sort`), else the
    list in `sort` (by name when None), narrowed by `filters`; `with_count` adds a capped count.
    A sort is a name of SORT_NAMES (or an alias), "-" first for descending; a bad one is Invalid.
    `columns`: customer columns the rows carry besides LIST_COLUMNS (what the JSON API shows)."""
    if page < 1 or limit < 1:
        raise Invalid("page" if page < 1 else "limit", "Pages and page sizes start at 1.")
    c = ask(query, filters, sort, page, limit)
    if c.q:
        by_card = card_holder_search(business, c, columns=columns)  # a typed or scanned card code
        return by_card or ranked_search(business, c, with_count=with_count, columns=columns)
    return sorted_list(business, c, with_count=with_count, columns=columns)


def ask(query: str, filters: Filters | None, sort: str | None, page: int, limit: int) -> Criteria:
    """The plain values as one Criteria (a Filters with the query, sort and page)."""
    narrowed = {f.name: getattr(filters, f.name) for f in fields(Filters)} if filters else {}
    c = Criteria(**narrowed, q=clean_query(query), page=page, limit=limit)
    if sort:
        descending, name = sort.startswith("-"), sort.lstrip("-+ ")
        name = SORT_ALIASES.get(name, name)
        if name not in SORT_NAMES:
            raise Invalid("sort", f"Cannot sort by {sort[:30]!r}.")
        c.sort, c.sort_given = ("-" if descending else "") + name, True
    return c


def search_criteria(business, c: Criteria, *, with_count: bool = True) -> Results:
    """`search_customers` for a whole Criteria (what `read_criteria` read from the list's query string)."""
    sort = c.sort if c.sort_given else None
    return search_customers(business, c.q, c, sort, c.page, c.limit, with_count)
