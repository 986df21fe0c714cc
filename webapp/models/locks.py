"""Row locks for the rest of the transaction, on both engines, so a check made under them stays true.

PostgreSQL locks the rows themselves (`SELECT … FOR UPDATE`; under READ COMMITTED the locked read
returns the newest committed version). SQLite has no row locks: one writer at a time holds the whole
database. Its Python driver (3.11, legacy transaction control) runs SELECTs outside any transaction and
opens one (deferred) only before the first write, so whatever was read before that write may be stale
by the time it lands. Taking the write lock first (`BEGIN IMMEDIATE`, which waits through the busy
timeout) and then reading makes the read as good as a row lock: nobody else can write until we commit.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from webapp.extensions import db
from webapp.models.business import Business
from webapp.models.customer import LEAN, Customer


def take_write_lock() -> None:
    """SQLite: hold the database's write lock from now until commit (no-op on other engines)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    # In the driver's legacy mode a transaction is open only once something was written, and then
    # this connection already holds the write lock (SQLite takes it even for an UPDATE of no rows).
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_customers(*customer_ids: uuid.UUID) -> list[Customer]:
    """Lock these customers' rows (in id order, so two lockers never deadlock) and return them reloaded
    as committed; the caller's loaded copies are refreshed too. Holds until the transaction ends."""
    take_write_lock()
    return list(
        db.session.scalars(
            select(Customer)
            .where(Customer.id.in_(sorted(set(customer_ids))))
            .order_by(Customer.id)
            .with_for_update()
            .options(*LEAN)  # a lock needs the row, not its tags, locations and consents
            .execution_options(populate_existing=True)
        )
    )


def lock_customer(customer_id: uuid.UUID) -> Customer | None:
    """Lock one customer's row and return it as committed (None when it no longer exists)."""
    found = lock_customers(customer_id)
    return found[0] if found else None


def lock_business(business_id: int) -> Business | None:
    """Lock the business's row: the one place writers of business-wide rules (its owners) queue."""
    take_write_lock()
    return db.session.scalars(
        select(Business)
        .where(Business.id == business_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


@contextmanager
def savepoint() -> Iterator[None]:
    """A SAVEPOINT that rolls back alone on error. On SQLite a SAVEPOINT outside a transaction would be
    the transaction (its RELEASE commits), so the write lock, and the real transaction, come first."""
    take_write_lock()
    with db.session.begin_nested():
        yield
