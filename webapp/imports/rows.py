"""One CSV row into a customer's values, by the rules of the customer form, and what to do with it.

`RowReader` turns cells into values with the customer rules themselves (`webapp.customers.fields`:
trimmed NFC text within its length, syntactically valid emails, birth dates not in the future nor
before 1900, known sources; `webapp.phones.normalize_phone`: E.164 with the business's region), plus
what a spreadsheet does to values: Excel serial dates, dd/mm/yyyy or mm/dd/yyyy by the business's
region, leading zeros lost from phones, "Smith, Jane" full names, tag lists in one cell.
A row's `problems` reject it; its `notes` are told but do not stop it.

`Planner` decides each read row's action against the book and the rows before it: "create"; for a
row matching an existing customer by normalized email or phone, by policy "skip", "update" (non-empty
values in the file win) or "fill" (only empty fields are filled); "repeat" for a row whose email or
phone an earlier row of the file already had; "reject" for problems, or when its email and phone
belong to two different customers. Lookups go by chunk, so memory stays flat whatever the file size.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select, text

from webapp.customers.fields import (
    EARLIEST_BIRTH_DATE,
    FIELDS,
    business_today,
    check_email,
    check_text,
    clean_text,
    normalize_email,
)
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.imports.mapping import JOINED
from webapp.models import Business, Customer, Tag, customer_tag
from webapp.phones import normalize_phone
from webapp.text import has_control_characters, unquoted

# The stored customer fields an import writes (a create's or edit's plain fields), in that order.
STORED = FIELDS
TAG_NAME_MAX = 60
MONTH_FIRST_REGIONS = {"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"}
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "herr", "frau", "mme", "m"}
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "janvier", "januar", "enero"),
            ("feb", "february", "fevrier", "februar", "febrero"),
            ("mar", "march", "mars", "marz", "marzo"),
            ("apr", "april", "avril", "abril"),
            ("may", "mai", "mayo"),
            ("jun", "june", "juin", "juni", "junio"),
            ("jul", "july", "juillet", "juli", "julio"),
            ("aug", "august", "aout", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre"),
            ("oct", "october", "octobre", "oktober", "octubre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "decembre", "dezember", "diciembre"),
        ),
        start=1,
    )
    for name in names
}
SOURCE_WORDS = {
    "walk in": "walk-in",
    "walkin": "walk-in",
    "walk-in": "walk-in",
    "in person": "walk-in",
    "in store": "walk-in",
    "phone": "phone",
    "telephone": "phone",
    "call": "phone",
    "phone call": "phone",
    "online": "online",
    "web": "online",
    "website": "online",
    "internet": "online",
    "online booking": "online",
    "booking site": "online",
    "app": "online",
    "referral": "referral",
    "referred": "referral",
    "friend": "referral",
    "word of mouth": "referral",
    "recommendation": "referral",
    "import": "import",
    "imported": "import",
    "api": "api",
    "other": "other",
}
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[t ].*)?$")
NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:[t ].*)?$")
WORDY_DATE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ \-./]+([a-z]+)\.?[ \-./,]+(\d{2}|\d{4})$")
WORDY_US_DATE = re.compile(r"^([a-z]+)\.?[ \-./]+(\d{1,2})(?:st|nd|rd|th)?[ ,\-./]+(\d{2}|\d{4})$")
SERIAL = re.compile(r"^\d{1,5}(?:\.\d+)?$")
TAG_SPLIT = re.compile(r"[,;|\n]")
PHONE_NOISE = re.compile(r"^(?:tel:|phone:|mobile:|=)?\s*[\"']?|[\"']$", re.IGNORECASE)


@dataclass
class Row:
    """One data row of the file, read and then planned."""

    line: int
    cells: list[str]
    values: dict = field(default_factory=dict)  # stored fields that the row gives, plus "tags", "created_at"
    problems: list[str] = field(default_factory=list)  # any of them rejects the row
    notes: list[str] = field(default_factory=list)  # told, but the row goes ahead
    action: str = "create"
    customer_id: uuid.UUID | None = None  # the matching customer (update / fill / skip)
    changes: dict = field(default_factory=dict)  # {field: [old, new]} for update / fill
    add_tags: list[str] = field(default_factory=list)  # tag names to link (new to this customer)
    reason: str = ""  # why rejected / skipped / repeated, one sentence
    version: int | None = None  # the matching customer's version when read
    merged: dict = field(default_factory=dict)  # update / fill: the customer's fields after the change

    @property
    def rejected(self) -> bool:
        return bool(self.problems)


# --- dates ---------------------------------------------------------------------------------------


def two_digit_year(year: int, today: date) -> int:
    """ "85" -> 1985, "07" -> 2007 (a birth date's two-digit year is never in the future)."""
    century = today.year // 100 * 100
    return century + year if century + year <= today.year else century - 100 + year


def parse_date(raw: str, month_first: bool, today: date) -> date:
    """A date as spreadsheets and other systems write it; raises ValueError with a sentence."""
    value = raw.strip().lower()
    if SERIAL.match(value):
        number = float(value)
        if 1800 <= number <= 2100 and "." not in value:
            raise ValueError(f"“{raw}” is only a year: give the whole date.")
        if not 1 <= number < 2958466:
            raise ValueError(f"“{raw}” is not a date.")
        return EXCEL_EPOCH + timedelta(days=int(number))
    if m := ISO_DATE.match(value):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := NUMERIC_DATE.match(value):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            month, day = a, b
        else:
            month, day = (a, b) if month_first else (b, a)
        if len(m[3]) == 2:
            year = two_digit_year(year, today)
    elif (m := WORDY_DATE.match(value)) and m[2] in MONTHS:
        day, month, year = int(m[1]), MONTHS[m[2]], int(m[3])
        year = two_digit_year(year, today) if len(m[3]) == 2 else year
    elif (m := WORDY_US_DATE.match(value)) and m[1] in MONTHS:
        month, day, year = MONTHS[m[1]], int(m[2]), int(m[3])
        year = two_digit_year(year, today) if len(m[3]) == 2 else year
    else:
        raise ValueError(f"“{raw}” is not a date Frontdesk can read; write it as 1985-04-23.")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"“{raw}” is not a real date.") from None


def parse_datetime(raw: str, month_first: bool, today: date, zone: tzinfo = UTC) -> datetime:
    """A timestamp (ISO 8601, Unix seconds or milliseconds, an Excel serial with its time) or a date
    (taken as its midnight), in UTC; raises ValueError with a sentence. A time written without an
    offset is a wall-clock time in `zone`, the business's timezone: what its staff saw on their
    screen and what our own export writes."""
    value = raw.strip()
    if re.fullmatch(r"\d{9,10}|\d{12,13}", value):
        seconds = int(value) / (1000 if len(value) > 10 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    if SERIAL.match(value) and "." in value:
        number = float(value)
        wall = datetime.combine(EXCEL_EPOCH, datetime.min.time()) + timedelta(days=number)
        return wall.replace(tzinfo=zone).astimezone(UTC)
    try:
        stamp = datetime.fromisoformat(value.replace(" UTC", "").replace("Z", "+00:00"))
    except ValueError:
        day = parse_date(value, month_first, today)
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    return stamp.replace(tzinfo=zone).astimezone(UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


# --- other fields -----------------------------------------------------------------------------------


def split_full_name(raw: str, last_given: str = "") -> tuple[str, str]:
    """ "Jane Smith" -> ("Jane", "Smith"), "Smith, Jane" -> ("Jane", "Smith"), "Dr. Jane van Dyke" ->
    ("Jane", "van Dyke"); with a separate last name column, the name without it is the first name."""
    value = " ".join(raw.split())
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    words = value.split(" ")
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    if last_given and len(words) > 1 and " ".join(words).lower().endswith(last_given.lower()):
        rest = " ".join(words)[: -len(last_given)].strip()
        return rest, last_given
    if len(words) == 1:
        return words[0], ""
    return words[0], " ".join(words[1:])


def clean_phone(raw: str, region: str) -> str | None:
    """`normalize_phone`, after what spreadsheets do to numbers: an apostrophe or ="…" kept as text, a
    "tel:" prefix, the country code without its + (447400123456), the leading zero lost
    (7400123456, read with the region as normalize_phone does)."""
    value = PHONE_NOISE.sub("", raw.strip()).strip()
    if not value:
        return None
    try:
        return normalize_phone(value, region)
    except Invalid:
        digits = re.sub(r"\D", "", value)
        if digits == re.sub(r"[\s().\-]", "", value) and len(digits) >= 10 and digits[0] != "0":
            try:
                return normalize_phone("+" + digits, region)
            except Invalid:
                pass
        raise


def split_tags(raw: str) -> list[str]:
    """Tag names from one cell: "VIP, Allergy; Regular", or a JSON list the API exports gave."""
    value = raw.strip()
    if value.startswith("[") and value.endswith("]"):
        try:
            items = json.loads(value)
            if isinstance(items, list):
                value = ",".join(str(i) for i in items)
        except ValueError:
            value = value[1:-1]
    names: dict[str, str] = {}
    for part in TAG_SPLIT.split(value):
        name = " ".join(part.strip().strip("\"'").split())
        if name:
            names.setdefault(name.lower(), name)
    return list(names.values())


def source_of(raw: str) -> str | None:
    """A known source for what the file says, or None."""
    key = " ".join(raw.strip().lower().replace("_", " ").split())
    return SOURCE_WORDS.get(key) or SOURCE_WORDS.get(key.replace(" ", ""))


class RowReader:
    """Cells into values for one business and mapping ({column index: field key})."""

    def __init__(self, business: Business, mapping: dict[int, str]):
        self.region = business.phone_region or "GB"
        self.month_first = self.region in MONTH_FIRST_REGIONS
        self.business = business
        self.today = business_today(business)
        self.zone = ZoneInfo(business.timezone or "UTC")
        self.columns: dict[str, list[int]] = {}
        for index, key in sorted(mapping.items()):
            if key != "ignore":
                self.columns.setdefault(key, []).append(index)
        self.width = max(mapping, default=-1) + 1
        self.single = {k: v[0] for k, v in self.columns.items() if len(v) == 1}

    def cell(self, cells: list[str], key: str) -> str | None:
        """The column's cell (several columns of a joined field joined); None when not mapped."""
        index = self.single.get(key)
        if index is not None:
            return unquoted(cells[index].strip()) if index < len(cells) else ""
        indexes = self.columns.get(key)
        if not indexes:
            return None
        parts = [unquoted(cells[i].strip()) for i in indexes if i < len(cells) and cells[i].strip()]
        return JOINED.get(key, " ").join(parts)

    def read(self, line: int, cells: list[str]) -> Row:
        row = Row(line, cells)
        values, problems = row.values, row.problems
        extra = [c for c in cells[self.width :] if c.strip()]
        if extra and len(cells) > self.width:
            row.notes.append(
                f"{len(cells)} cells where the header has {self.width}: the extra ones are left out."
            )
        if has_control_characters("".join(cells)):
            for key in self.columns:
                raw = self.cell(cells, key)
                if raw and has_control_characters(raw):
                    problems.append(f"{key.replace('_', ' ').capitalize()}: remove the control character.")
            if problems:
                return row
        self.read_names(row)
        for key in ("company", "address", "notes", "custom_field_value"):
            raw = self.cell(cells, key)
            if raw is not None:
                self.text(row, key, raw)
        self.read_contacts(row)
        self.read_dates(row)
        raw_tags = self.cell(cells, "tags")
        if raw_tags:
            tags = split_tags(raw_tags)
            for name in tags:
                if len(name) > TAG_NAME_MAX:
                    problems.append(f"Tags: “{name[:20]}…” is longer than {TAG_NAME_MAX} characters.")
            values["tags"] = tags
        raw_source = self.cell(cells, "source")
        if raw_source:
            known = source_of(raw_source)
            if known:
                values["source"] = known
            else:
                row.notes.append(f"Source “{raw_source[:40]}” is not one Frontdesk knows; stored as import.")
        if not values.get("first_name"):
            problems.append("No first name: every customer needs one.")
        if (
            not values.get("email")
            and not values.get("phone")
            and not any(p.startswith(("Email", "Phone")) for p in problems)
        ):
            problems.append("No email and no phone: every customer needs at least one.")
        return row

    def text(self, row: Row, key: str, raw: str) -> None:
        try:
            row.values[key] = check_text(key, raw)
        except Invalid as e:
            row.problems.append(e.message)

    def read_names(self, row: Row) -> None:
        first, last = self.cell(row.cells, "first_name"), self.cell(row.cells, "last_name")
        full = self.cell(row.cells, "full_name")
        if full:
            first_part, last_part = split_full_name(clean_text(full), clean_text(last))
            first, last = first_part, (last or last_part)
        if first is not None:
            self.text(row, "first_name", first)
        if last is not None:
            self.text(row, "last_name", last)

    def read_contacts(self, row: Row) -> None:
        raw_email = self.cell(row.cells, "email")
        if raw_email:
            try:
                email = check_email(raw_email)
                row.values["email"] = email
                row.values["email_normalized"] = normalize_email(email)
            except Invalid as e:
                row.problems.append(f"Email “{raw_email[:80]}”: {e.message}")
        raw_phone = self.cell(row.cells, "phone")
        if raw_phone:
            try:
                row.values["phone"] = clean_phone(raw_phone, self.region)
            except Invalid as e:
                row.problems.append(f"Phone “{raw_phone[:40]}”: {e.message}")

    def read_dates(self, row: Row) -> None:
        raw = self.cell(row.cells, "birthday")
        if raw:
            try:
                born = parse_date(raw, self.month_first, self.today)
                if born > self.today:
                    row.problems.append(f"Date of birth “{raw}” is in the future.")
                elif born < EARLIEST_BIRTH_DATE:
                    row.problems.append(f"Date of birth “{raw}” is before 1900.")
                else:
                    row.values["date_of_birth"] = born
            except ValueError as e:
                row.problems.append(f"Date of birth: {e}")
        raw = self.cell(row.cells, "created_at")
        if raw:
            try:
                since = parse_datetime(raw, self.month_first, self.today, self.zone)
                if since > datetime.now(UTC) + timedelta(days=1):
                    row.notes.append(f"Customer since “{raw}” is in the future; today is used.")
                else:
                    row.values["created_at"] = since
            except (ValueError, OverflowError, OSError):
                row.notes.append(f"Customer since “{raw[:40]}” is not a date; today is used.")


# --- planning ------------------------------------------------------------------------------------

MATCH_COLUMNS = (
    Customer.id,
    Customer.version,
    Customer.is_dummy,
    Customer.dummy_label,
    Customer.anonymized_at,
    Customer.merged_into_id,
    Customer.email_normalized,
    *(getattr(Customer, f) for f in STORED),
)


def display_name(existing) -> str:
    name = " ".join(p for p in (existing.first_name, existing.last_name) if p)
    return name or existing.dummy_label or "a customer without a name"


def empty(value) -> bool:
    return value is None or value == ""


class SeenKeys:
    """The emails and phones of the file's earlier rows, with the line each first came on, kept in a
    temporary table of the import's own connection (never committed, gone with the connection's
    transaction on PostgreSQL), not in memory: a file of millions of rows keeps the import's memory
    flat. One lookup and one insert per chunk; the chunk's own rows are compared in memory."""

    LOOKUP = text("SELECT key, line FROM import_seen WHERE key IN :keys").bindparams(
        bindparam("keys", expanding=True)
    )

    def __init__(self):
        connection = db.session.connection()
        drop = " ON COMMIT DROP" if connection.dialect.name == "postgresql" else ""
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS import_seen"
            f" (key TEXT PRIMARY KEY, line INTEGER NOT NULL){drop}"
        )
        connection.exec_driver_sql("DELETE FROM import_seen")
        self.earlier: dict[str, int] = {}  # of the chunk's keys, those of earlier chunks
        self.new: dict[str, int] = {}  # first seen in this chunk

    def start_chunk(self, keys: set[str]) -> None:
        self.earlier = dict(db.session.execute(self.LOOKUP, {"keys": list(keys)}).all()) if keys else {}
        self.new = {}

    def get(self, key: str) -> int | None:
        return self.earlier.get(key) or self.new.get(key)

    def add(self, key: str, line: int) -> None:
        self.new.setdefault(key, line)

    def end_chunk(self) -> None:
        if self.new:
            db.session.execute(
                text("INSERT INTO import_seen (key, line) VALUES (:key, :line)"),
                [{"key": k, "line": v} for k, v in self.new.items()],
            )
        self.earlier, self.new = {}, {}

    def close(self) -> None:
        db.session.connection().exec_driver_sql("DELETE FROM import_seen")


class Planner:
    """Decides each row's action; remembers the emails and phones of the file's earlier rows."""

    def __init__(self, business: Business, policy: str):
        self.business_id = business.id
        self.policy = policy
        self.seen = SeenKeys()

    def plan(self, rows: list[Row]) -> list[Row]:
        """Set action, reason, customer_id, changes and add_tags on every row of a chunk."""
        live = [r for r in rows if not r.rejected]
        emails = {r.values["email_normalized"] for r in live if r.values.get("email_normalized")}
        phones = {r.values["phone"] for r in live if r.values.get("phone")}
        self.seen.start_chunk({"e:" + e for e in emails} | {"p:" + p for p in phones})
        by_email, by_phone = self.existing(emails, phones)
        tags = self.existing_tags({c.id for c in (*by_email.values(), *by_phone.values())})
        for row in rows:
            self.plan_row(row, by_email, by_phone, tags)
        self.seen.end_chunk()
        return rows

    def existing(self, emails: set, phones: set) -> tuple[dict, dict]:
        if not emails and not phones:
            return {}, {}
        found = db.session.execute(
            select(*MATCH_COLUMNS).where(
                Customer.business_id == self.business_id,
                or_(
                    Customer.email_normalized.in_(emails) if emails else False,
                    Customer.phone.in_(phones) if phones else False,
                ),
            )
        ).all()
        by_email = {c.email_normalized: c for c in found if c.email_normalized in emails}
        by_phone = {c.phone: c for c in found if c.phone in phones}
        return by_email, by_phone

    def existing_tags(self, ids: set) -> dict:
        """{customer id: {lower-cased tag name}} for matched customers."""
        if not ids:
            return {}
        out: dict = {}
        rows = db.session.execute(
            select(customer_tag.c.customer_id, Tag.name)
            .join(Tag, Tag.id == customer_tag.c.tag_id)
            .where(customer_tag.c.business_id == self.business_id, customer_tag.c.customer_id.in_(ids))
        )
        for customer_id, name in rows:
            out.setdefault(customer_id, set()).add(name.lower())
        return out

    def plan_row(self, row: Row, by_email: dict, by_phone: dict, tags: dict) -> None:
        if row.rejected:
            row.action, row.reason = "reject", " ".join(row.problems)
            return
        email, phone = row.values.get("email_normalized"), row.values.get("phone")
        earlier = (email and self.seen.get("e:" + email), phone and self.seen.get("p:" + phone))
        if earlier[0] or earlier[1]:
            what = "email" if earlier[0] else "phone"
            row.action = "repeat"
            row.reason = f"Repeats line {earlier[0] or earlier[1]} of the file (the same {what})."
            return
        a, b = by_email.get(email) if email else None, by_phone.get(phone) if phone else None
        if a is not None and b is not None and a.id != b.id:
            row.action = "reject"
            row.reason = (
                f"The email belongs to {display_name(a)} and the phone to {display_name(b)}, two different "
                "customers: correct the row, or merge the two customers first."
            )
            row.problems.append(row.reason)
            return
        existing = a or b
        if existing is not None and (existing.anonymized_at or existing.merged_into_id):
            row.action = "reject"
            state = "was anonymized" if existing.anonymized_at else "was merged into another customer"
            row.reason = f"The {'email' if a else 'phone'} belongs to a customer who {state}."
            row.problems.append(row.reason)
            return
        if email:
            self.seen.add("e:" + email, row.line)
        if phone:
            self.seen.add("p:" + phone, row.line)
        if existing is None:
            row.action = "create"
            return
        row.customer_id = existing.id
        matched = "email" if a is not None else "phone"
        if self.policy == "skip":
            row.action = "skip"
            row.reason = f"Matches {display_name(existing)} (same {matched}); skipped by the policy."
            return
        for key in STORED:
            new = row.values.get(key)
            if empty(new):
                continue
            old = getattr(existing, key)
            if self.policy == "fill" and not empty(old) and not (key == "source" and old == "other"):
                continue
            if key == "email" and existing.email_normalized == row.values["email_normalized"]:
                continue  # the same address, whatever its case
            if old != new:
                row.changes[key] = [old, new]
        if "email" in row.changes:
            row.changes["email_normalized"] = [existing.email_normalized, row.values["email_normalized"]]
        have = tags.get(existing.id, set())
        row.add_tags = [t for t in row.values.get("tags", []) if t.lower() not in have]
        merged = {k: row.changes.get(k, [None, getattr(existing, k)])[1] for k in STORED}
        merged["email_normalized"] = row.changes.get("email_normalized", [None, existing.email_normalized])[1]
        merged["dummy_label"] = existing.dummy_label
        merged["is_dummy"] = existing.is_dummy
        if existing.is_dummy and merged["first_name"] and (merged["email"] or merged["phone"]):
            row.changes["is_dummy"] = [True, False]
            merged["is_dummy"] = False
        row.version, row.merged = existing.version, merged
        if not row.changes and not row.add_tags:
            row.action = "skip"
            row.reason = f"Matches {display_name(existing)} (same {matched}); nothing new in the file."
            return
        row.action = self.policy
        fields = ", ".join(
            k.replace("_", " ") for k in row.changes if k not in ("email_normalized", "is_dummy")
        )
        if row.add_tags:
            fields = ", ".join(p for p in (fields, "tags") if p)
        row.reason = f"Matches {display_name(existing)} (same {matched}): {fields}."


# --- reading in worker processes -------------------------------------------------------------------

_reader: RowReader | None = None


class BusinessFacts:
    """What `RowReader` needs of a business, picklable for a worker process."""

    def __init__(self, business):
        self.id, self.phone_region, self.timezone = business.id, business.phone_region, business.timezone


def start_reader(facts: BusinessFacts, mapping: dict[int, str]) -> None:
    """A worker process's initializer: its own RowReader."""
    global _reader
    _reader = RowReader(facts, mapping)


def read_batch(batch: list[tuple[int, list[str]]]) -> list[Row]:
    """Read a batch of (line, cells) in a worker process."""
    return [_reader.read(line, cells) for line, cells in batch]
