"""The customer list as CSV: every customer the list's criteria select (not one page), read as Core
rows in chunks from one streamed statement, written as UTF-8 with a byte-order mark.

The rows are the list's own: `base_conditions` (the business, live customers only — merged-away records
are pointers to their survivor and never listed — and every filter), plus, for a typed query, every
customer one of the search's tiers matches, uncapped (the screen ranks only its best 100). Anonymized
customers are listed, as the screen lists them: their row keeps the id, totals and dates, nothing
personal. The order is the list's sort (by name when none was asked for; a search's ranking only
exists for its best 100).
"""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from sqlalchemy import and_, column, exists, literal_column, or_, select, table, type_coerce
from sqlalchemy.types import NullType

from webapp.exports.cells import safe_text
from webapp.extensions import db
from webapp.models import Customer, Location
from webapp.models.customer import customer_location
from webapp.search import Criteria
from webapp.search.conditions import base_conditions, order_by
from webapp.search.tag_lists import PAIR, SEPARATOR
from webapp.search.tiers import Tier, contains_binds, tiers

CHUNK = 2000  # rows fetched, formatted and sent at a time: memory holds one chunk, whatever the book
BOM = "\ufeff".encode()
MISSING = object()
COLUMNS = (
    Customer.id,
    Customer.first_name,
    Customer.last_name,
    Customer.email,
    Customer.phone,
    Customer.date_of_birth,
    Customer.company,
    Customer.address,
    Customer.notes,
    Customer.tag_list,
    Customer.source,
    Customer.custom_field_value,
    Customer.is_dummy,
    Customer.dummy_label,
    Customer.blacklisted_at,
    Customer.blacklist_level,
    Customer.blacklist_expires_on,
    Customer.blacklist_reason,
    Customer.total_bookings,
    Customer.completed_bookings,
    Customer.no_shows,
    Customer.cancellations_by_customer,
    Customer.cancellations_by_business,
    Customer.total_spent,
    Customer.points_balance,
    Customer.first_visit_at,
    Customer.last_visit_at,
    Customer.anonymized_at,
    Customer.created_at,
    Customer.updated_at,
)


def headers(currency: str) -> list[str]:
    """The header row. Names an import recognizes where a field can go back in ("First name",
    "Date of birth", "Tags", "Created" …); the others are read-only facts it ignores."""
    return [
        "ID", "First name", "Last name", "Email", "Phone", "Date of birth", "Company", "Address",
        "Notes", "Tags", "Locations", "Source", "Custom field", "Placeholder", "Blacklisted",
        "Blacklist reason", "Bookings", "Completed bookings", "No-shows", "Cancelled by customer",
        "Cancelled by business", f"Total spent ({currency})", "Points", "Earliest visit", "Last visit",
        "Anonymized", "Created", "Updated",
    ]  # fmt: skip


# --- which customers ------------------------------------------------------------------------------


def tier_condition(tier: Tier, dialect: str):
    """One search tier as a plain condition on the customer row (no cap, no rank)."""
    values = tier.binds(dialect)
    if tier.how in ("contains", "words"):
        fragments = tier.values[2:] if tier.how == "words" else tier.values
        return contains_condition(contains_binds(fragments, dialect), dialect)
    key = getattr(Customer, tier.key)
    if tier.how == "=":
        return key == values[0]
    condition = and_(key >= values[0], key < values[1])  # a prefix as an index range
    if tier.how == "^~":
        condition = and_(condition, key.like(values[2], escape="\\"))
    return condition


def contains_condition(binds: list[str], dialect: str):
    """Every fragment occurs in search_text: SQLite through its FTS5 trigram table, PostgreSQL by LIKEs
    that its pg_trgm index answers."""
    if dialect == "sqlite":
        fts = table("customer_fts", column("rowid"))
        matches = select(fts.c.rowid).where(literal_column("customer_fts").op("MATCH")(binds[0]))
        return literal_column("customer.rowid").in_(matches)
    return and_(*(Customer.search_text.like(b, escape="\\") for b in binds))


def export_statement(business, c: Criteria):
    """SELECT every customer the list's criteria `c` select, in the list's sort."""
    where = base_conditions(business, c)
    if c.q:
        dialect = db.engine.dialect.name
        found = tiers(c.q, business.phone_region)
        where.append(or_(*(tier_condition(t, dialect) for t in found)) if found else literal_column("1=0"))
    return select(*(raw(col) for col in COLUMNS)).where(*where).order_by(*order_by(c.sort))


def raw(col):
    """`col` read as the driver gives it, without SQLAlchemy's result processing: at a million rows,
    parsing every id, date and timestamp into objects only to print them again cost a third of the time.
    RowWriter reads both engines' raw forms (SQLite: text and 0/1; PostgreSQL: psycopg's objects)."""
    return type_coerce(col, NullType()).label(col.key)


# --- the rows as CSV ------------------------------------------------------------------------------


def chunks(statement, size: int = CHUNK) -> Iterator[list]:
    """The statement's rows, `size` at a time, from one streamed cursor (PostgreSQL: server-side)."""
    # Options on the statement, not the connection: Connection.execution_options changes the session's
    # connection in place, and every later statement (the audit INSERT) would try a server-side cursor.
    result = db.session.connection().execute(statement.execution_options(yield_per=size))
    try:
        yield from result.partitions(size)
    finally:
        result.close()


def location_names(business_id: int, ids: list) -> dict:
    """{customer id: "Main, North"} for one chunk's customers (raw ids, as the chunk holds them)."""
    customer_id = raw(customer_location.c.customer_id)
    rows = db.session.execute(
        select(customer_id, Location.name)
        .join(Location, Location.id == customer_location.c.location_id)
        .where(customer_location.c.business_id == business_id, customer_id.in_(ids))
        .order_by(Location.name)
    )
    out: dict = {}
    for key, name in rows:
        out[key] = f"{out[key]}, {name}" if key in out else name
    return out


def has_locations(business_id: int) -> bool:
    """True when any customer of the business is linked to a location (else no chunk looks)."""
    return bool(db.session.scalar(select(exists().where(customer_location.c.business_id == business_id))))


def text_id(value) -> str:
    """A raw id as text: SQLite's 32 hex digits get their dashes, PostgreSQL's UUID is printed."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def text_day(value) -> str:
    """A raw date (SQLite: "YYYY-MM-DD" already; PostgreSQL: a date) as ISO text."""
    return "" if value is None else str(value)


class RowWriter:
    """Turns raw rows into CSV text cells for one business (its timezone, currency, today)."""

    def __init__(self, business):
        self.business_id = business.id
        self.zone = ZoneInfo(business.timezone)
        self.scale = 10 ** get_currency_precision(business.currency)
        self.digits = len(str(self.scale)) - 1
        self.today = datetime.now(self.zone).date().isoformat()
        self.locations = has_locations(business.id)
        self.hours: dict[str, str | None] = {}  # UTC "YYYY-MM-DD HH" -> local, or None (see local_hour)

    def when(self, value) -> str:
        """A raw UTC timestamp (SQLite: naive text; PostgreSQL: aware) as local "YYYY-MM-DD HH:MM"."""
        if value is None:
            return ""
        if isinstance(value, str):
            local_hour = self.hours.get(value[:13], MISSING)
            if local_hour is MISSING:
                if len(self.hours) > 50_000:  # a book spanning decades: keep the memory flat
                    self.hours.clear()
                local_hour = self.hours[value[:13]] = self.local_hour(value[:13])
            if local_hour is not None:
                return local_hour + value[13:16]
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.zone).isoformat(" ", "minutes")[:16]

    def local_hour(self, utc_hour: str) -> str | None:
        """ "YYYY-MM-DD HH" of a UTC hour in the business's timezone, when the whole hour shifts by whole
        hours (every zone but a few with :30 or :45 offsets, which take the exact road); remembered per
        hour, so a million timestamps cost a few thousand conversions."""
        local = datetime.fromisoformat(utc_hour + ":00").replace(tzinfo=UTC).astimezone(self.zone)
        if local.utcoffset() % timedelta(hours=1):
            return None
        return local.isoformat(" ", "minutes")[:13]

    def money(self, minor: int) -> str:
        """Minor units as a plain decimal number in major units ("123.45")."""
        if self.scale == 1:
            return str(minor)
        sign, minor = ("-" if minor < 0 else ""), abs(minor)
        return f"{sign}{minor // self.scale}.{minor % self.scale:0{self.digits}d}"

    def restriction(self, since, level, expires) -> str:
        """ "yes" for a block in force, "warning" for a warning, "" otherwise (a lapsed one is "")."""
        if since is None or (expires is not None and str(expires) <= self.today):
            return ""
        return "yes" if level == "block" else "warning"

    def cells(self, r, locations: str) -> list:
        """One customer's cells, text neutralized (see cells.py)."""
        (id_, first, last, email, phone, born, company, address, notes, tag_list, source, custom, dummy,
         _label, since, level, expires, reason, bookings, completed, no_shows, by_customer, by_business,
         spent, points, first_visit, last_visit, anonymized, created, updated) = r  # fmt: skip
        tags = ", ".join(sorted(p.split(PAIR, 1)[0] for p in tag_list.split(SEPARATOR))) if tag_list else ""
        when = self.when
        return [
            text_id(id_), safe_text(first), safe_text(last), safe_text(email), safe_text(phone),
            text_day(born), safe_text(company), safe_text(address), safe_text(notes), safe_text(tags),
            safe_text(locations), source or "", safe_text(custom), "yes" if dummy else "",
            self.restriction(since, level, expires), safe_text(reason) if since is not None else "",
            bookings, completed, no_shows, by_customer, by_business, self.money(spent), points,
            when(first_visit), when(last_visit), when(anonymized), when(created), when(updated),
        ]  # fmt: skip

    def encode(self, rows: list) -> bytes:
        """A chunk of rows as CSV bytes (RFC 4180: quoted where needed, CRLF line ends)."""
        places = location_names(self.business_id, [r[0] for r in rows]) if self.locations else {}
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows(self.cells(r, places.get(r[0], "")) for r in rows)
        return buffer.getvalue().encode()


def csv_bytes(business, c: Criteria, counter: list, size: int = CHUNK) -> Iterator[bytes]:
    """The export as byte chunks: BOM and header row, then one chunk per `size` customers.
    `counter[0]` holds how many rows have gone out so far (read by the caller's audit)."""
    writer = RowWriter(business)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(headers(business.currency))
    yield BOM + buffer.getvalue().encode()
    for rows in chunks(export_statement(business, c), size):
        data = writer.encode(rows)
        counter[0] += len(rows)
        yield data
