"""Set-based loading of many customers at once, with their bookings, tags and locations.

Rows come in chunks of plain dicts (the demo generator's, or an import's); `driver_chunk` turns them
into the driver's form (in a worker process, if the caller likes), `load_chunks` inserts them at
driver speed (COPY / executemany), committing per chunk. From BULK_REBUILD_FROM rows the secondary
indexes and triggers are dropped first and rebuilt once after, with the rank buckets (and the rows'
tag lists, when the rows did not carry them); planner statistics are refreshed at the end.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy import text

from webapp.extensions import db
from webapp.models import Booking, Customer
from webapp.models.customer import customer_location, customer_tag
from webapp.models.search_keys import search_keys
from webapp.phones import national_digits
from webapp.search import deep_pages, tag_lists
from webapp.text import fold

BULK_REBUILD_FROM = 50_000  # from this many customers, indexes are rebuilt after the load
BULK_TABLES = ("customer", "booking", "customer_tag", "customer_location")
TABLES = (Customer.__table__, Booking.__table__, customer_tag, customer_location)


def load_chunks(
    chunks: Iterable[list], business_id: int, expected: int, *, tag_lists_given: bool = True
) -> int:
    """Insert `chunks` (each from `driver_chunk`) for `business_id`, committing after each; `expected`
    (how many customers in all) decides whether indexes are rebuilt once at the end. Without
    `tag_lists_given` the rows' tag lists are recomputed after a load with the triggers off.
    Returns how many bookings were inserted."""
    sqlite = db.session.connection().dialect.name == "sqlite"
    if sqlite:
        everyday = db.session.execute(text("PRAGMA cache_size")).scalar()
        db.session.execute(text("PRAGMA cache_size = -1000000"))  # 1 GB of page cache for the bulk load
    rebuild = expected >= BULK_REBUILD_FROM
    saved = drop_secondary_indexes() if rebuild else []
    bookings = 0
    for chunk in chunks:
        for table, (names, values) in zip(BULK_TABLES, chunk, strict=True):
            insert_rows(table, names, values)
        db.session.commit()
        bookings += len(chunk[1][1])
    if rebuild:
        restore_secondary_indexes(saved)
        deep_pages.rebuild(business_id)  # the bucket triggers were off for the load
        if not tag_lists_given:
            tag_lists.rebuild(business_id)  # so were the tag-list triggers
        db.session.commit()
    analyze()
    if sqlite:  # back to the everyday page cache (every pooled connection has the same one)
        db.session.execute(text(f"PRAGMA cache_size = {int(everyday)}"))
    return bookings


def driver_chunk(
    customers: list[dict], bookings: list[dict], tags: list[dict], locations: list[dict], dialect: str
) -> list:
    """One chunk in the driver's form, per table in BULK_TABLES order (see `driver_rows`)."""
    return [
        driver_rows(table, rows, dialect)
        for table, rows in zip(TABLES, (customers, bookings, tags, locations), strict=True)
    ]


BULK_TABLES = ("customer", "booking", "customer_tag", "customer_location")


def drop_secondary_indexes() -> list[str]:
    """Drop the secondary indexes and triggers of the bulk-loaded tables (PostgreSQL: disable the
    triggers); return the DDL that remakes them exactly as the migrations made them (building an
    index once beats updating it a million times; counting once beats a trigger call per row)."""
    conn = db.session.connection()
    names = ", ".join(f"'{t}'" for t in BULK_TABLES)
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                f"AND i.tablename IN ({names}) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname)"
            )
        ).all()
        for name, _ in rows:
            conn.execute(text(f'DROP INDEX "{name}"'))
        triggers = conn.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                f"WHERE c.relname IN ({names}) AND c.relnamespace = current_schema()::regnamespace "
                "AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
            )
        ).all()
        for table, name in triggers:
            conn.execute(text(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"'))
        return [ddl for _, ddl in rows] + [f'ALTER TABLE {t} ENABLE TRIGGER "{n}"' for t, n in triggers]
    rows = conn.execute(
        text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND tbl_name IN ({names}) AND sql IS NOT NULL"
        )
    ).all()
    for kind, name, _ in rows:
        conn.execute(text(f'DROP {kind.upper()} "{name}"'))
    return [ddl for _, _, ddl in sorted(rows, key=lambda r: r[0] != "index")]


def restore_secondary_indexes(ddl: list[str]) -> None:
    """Recreate what `drop_secondary_indexes` dropped, then refill the SQLite full-text index."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
    else:
        # This can be another pooled connection than the one that dropped them, and SQLite checks a
        # CREATE against the connection's cached schema ("already exists"): a read refreshes it.
        conn.execute(text("SELECT count(*) FROM sqlite_master"))
    for statement in ddl:
        conn.execute(text(statement))
    if conn.dialect.name == "sqlite":
        conn.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')"))
    db.session.commit()


def analyze() -> None:
    """Fresh planner statistics (and, on PostgreSQL, the visibility map) after a bulk load.

    SQLite: a full ANALYZE. A sampled one (`analysis_limit`) reads only the first rows of each index,
    which at a million customers all belong to one business: its estimates made `search_phone = ?`
    look as unselective as `merged_into_id IS NULL`, and a phone search scan the whole book.
    PostgreSQL: VACUUM ANALYZE, so index-only scans need no heap visits (autovacuum would get there
    on its own later)."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        conn.execute(text("ANALYZE"))
        db.session.commit()
        return
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        autocommit.execute(text("VACUUM (ANALYZE) customer, booking, customer_tag, customer_location"))


def sqlite_converter(type_):
    """A fast function giving the value SQLAlchemy would store on SQLite for a column of `type_`
    (the same text forms: 32-hex UUIDs, "YYYY-MM-DD HH:MM:SS.ffffff" UTC datetimes, ISO dates)."""
    python_type = getattr(type_, "impl", type_).python_type
    if python_type is uuid.UUID:
        return lambda v: v.hex
    if python_type is datetime:
        return lambda v: v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if python_type is date:
        return date.isoformat
    if python_type is bool:
        return int
    return None


def driver_rows(table, rows: list[dict], dialect: str) -> tuple[list[str], list[tuple]]:
    """(column names, value tuples) of `rows` in the form the driver takes: for SQLite the text the ORM
    would store (see `sqlite_converter`), for PostgreSQL the Python values COPY takes as they are.
    Columns a row leaves out get their scalar default."""
    if not rows:
        return [], []
    defaults = {
        c.name: c.default.arg
        for c in table.columns
        if c.name not in rows[0] and c.default is not None and c.default.is_scalar
    }
    names = list(rows[0]) + list(defaults)
    if dialect != "sqlite":
        return names, [tuple({**defaults, **row}[n] for n in names) for row in rows]
    converters = [sqlite_converter(table.c[n].type) for n in names]
    pairs = list(zip(names, converters, strict=True))
    values = [
        tuple(v if (v := row.get(n, defaults.get(n))) is None or f is None else f(v) for n, f in pairs)
        for row in rows
    ]
    return names, values


def insert_rows(table_name: str, names: list[str], values: list[tuple]) -> None:
    """Insert prepared rows at driver speed: COPY on PostgreSQL, executemany on SQLite."""
    if not values:
        return
    raw = db.session.connection().connection.driver_connection
    if db.session.connection().dialect.name == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table_name} ({', '.join(names)}) FROM STDIN") as copy,
        ):
            for row in values:
                copy.write_row(row)
        return
    raw.executemany(
        f"INSERT INTO {table_name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values
    )


@lru_cache(maxsize=20_000)
def cached_fold(text: str) -> str:
    """`fold`, remembered: demo names repeat."""
    return fold(text)


def cached_name_keys(first: str, last: str, company: str) -> tuple:
    """The name and company keys `search_keys` would give (fold joins words with one space)."""
    f, la = cached_fold(first), cached_fold(last)
    return " ".join(p for p in (f, la) if p), " ".join(p for p in (la, f) if p), cached_fold(company)


def add_search_keys(row: dict) -> None:
    """The same search columns the ORM's mapper event fills, for a bulk row."""
    if row["is_dummy"]:
        row.update(search_keys("", "", row["dummy_label"], None, None, ""))
        return
    name, reverse, company = cached_name_keys(row["first_name"], row["last_name"], row["company"])
    digits = national_digits(row["phone"])
    text = " ".join(p for p in (name, row["email_normalized"] or "", company, digits) if p)
    row.update(
        search_name=name,
        search_name_rev=reverse,
        search_phone=digits,
        search_company=company,
        search_text=text,
    )


def with_tag_list(row: dict, faces: Iterable) -> dict:
    """`row` with the tag list the customer_tag triggers would store for `faces` (they may be off)."""
    row["tag_list"] = tag_lists.list_of(faces)
    return row
