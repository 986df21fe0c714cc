"""What a search returns: customers as light read-only rows (LIST_COLUMNS), and a page of them."""

from dataclasses import dataclass, field

from sqlalchemy import literal_column, select

from webapp.extensions import db
from webapp.models import Customer
from webapp.models.customer import CustomerFace
from webapp.search import tag_lists
from webapp.text import counted


@dataclass
class Results:
    """One page of customers, with a count that is exact up to `cap`."""

    customers: list
    count: int
    capped: bool
    page: int
    limit: int
    has_next: bool
    cap: int  # where exact counting stops
    ranks: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)  # customer id -> [(name, color)]

    @property
    def count_label(self) -> str:
        """ "1 customer", "37 customers", "1,000+ customers"."""
        if self.capped:
            return f"{self.cap:,}+ customers"
        return counted(self.count, "customer")


LIST_COLUMNS = (
    Customer.id,
    Customer.business_id,
    Customer.first_name,
    Customer.last_name,
    Customer.email,
    Customer.phone,
    Customer.company,
    Customer.date_of_birth,
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
    Customer.ledger_balance,  # negative: the row's "Owes" badge
    Customer.created_at,
    Customer.tag_list,  # the row's own copy of its tags (see `tag_lists`): no read of customer_tag
)


class CustomerRow(CustomerFace):
    """A customer as a list shows it: the LIST_COLUMNS values, read-only and detached from the session.
    Plain attributes are several times cheaper to load than ORM instances, and a row needs no more."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


def row_select(page, key_column, ordering, extra=()):
    """The customers whose keys are in `page` (a subquery), in `ordering`, each with its tags."""
    return select(*LIST_COLUMNS, *extra).join(page, page.c.key == key_column).order_by(*ordering)


def rows_to_customers(rows) -> tuple[list[CustomerRow], dict]:
    """Row objects for a page and {customer id: [tag_lists.TagChip, …]} sorted by tag name."""
    customers, tags = [], {}
    for row in rows:
        values = row._asdict()
        packed = values.pop("tag_list")
        customer = CustomerRow(values)
        customers.append(customer)
        if packed:
            tags[customer.id] = tag_lists.chips(packed)
    return customers, tags


def row_key():
    """The narrowest unique key every customer index carries: SQLite's rowid, PostgreSQL's id."""
    if db.engine.dialect.name == "sqlite":
        return literal_column("customer.rowid")
    return Customer.id
