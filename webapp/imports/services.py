"""Import rules: upload a CSV file, map its columns, preview, dry-run, queue, run, undo.

`upload`, `set_mapping` and `undo` flush and record audit events; the caller commits (as every
service). `queue` commits itself, because the worker that runs the job is another process and must
see it; `run` is the task's body (and the command's) and manages its own transactions:

1. a short one marks the job "running" (a job already claimed is not run twice);
2. one transaction reads the file in chunks, normalizes and plans each row (webapp/imports/rows.py)
   and writes the chunk set-based (executemany / COPY through webapp/bulk.py's `insert_rows`; one
   executemany UPDATE for matched customers), with search keys computed as the ORM would and tag
   lists kept by the customer_tag triggers; the job's counts, status "done" and the import's audit
   event commit with the rows, or nothing does;
3. progress goes outside that transaction (webapp/imports/progress.py);
4. on any error the transaction is rolled back and a fresh one marks the job "failed" with the error.
"""

import csv
import gc
import io
import json
import multiprocessing
import os
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, text, union, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value

from webapp import signals
from webapp.audit import record
from webapp.bulk import BULK_REBUILD_FROM, add_search_keys, driver_rows, insert_rows
from webapp.customers.erasure import MONEY_ROWS
from webapp.errors import Invalid, NotFound
from webapp.extensions import db
from webapp.imports import progress as live_progress
from webapp.imports import reading
from webapp.imports.mapping import check_mapping, guess_mapping
from webapp.imports.rows import STORED, BusinessFacts, Planner, Row, RowReader, read_batch, start_reader
from webapp.models import (
    AuditEvent,
    Booking,
    Business,
    Customer,
    ImportChange,
    ImportJob,
    StaffUser,
    Tag,
    customer_tag,
    utcnow,
)
from webapp.models.search_keys import search_keys
from webapp.search import deep_pages, tag_lists
from webapp.search.tag_lists import TagChip
from webapp.text import CONTROL_CHARACTERS

POLICIES = {
    "skip": "Skip rows that match a customer already in the book",
    "update": "Update matching customers (values in the file win, empty cells change nothing)",
    "fill": "Fill in only the empty fields of matching customers",
}
CHUNK = 2000
PARALLEL_FROM = 20_000  # rows from which worker processes read them
UNSET = object()
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PREVIEW_KEYS = {"date_of_birth": "birthday"}


class Counts(NamedTuple):
    """What an import did (or a dry run would do). `updated` counts update and fill rows."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    repeated: int = 0


class PreviewRow(NamedTuple):
    """A row as it will be stored: `values` by FIELDS key ("birthday", "tags" …) as text."""

    line: int
    values: dict
    problems: list
    action: str  # "create" | "update" | "fill" | "skip" | "reject" | "repeat"
    reason: str = ""  # one sentence: what matches, what changes, why skipped or repeated


class UndoResult(NamedTuple):
    removed: int
    restored: int
    left_alone: list  # [(customer_id, name, why)]


class ImportFailed(Invalid):
    """`run` stopped; nothing of the import was written. The job says "failed" with the message."""

    def __init__(self, message: str):
        super().__init__("import", message)


# --- upload and mapping ------------------------------------------------------------------------------


def upload_limit() -> int:
    """IMPORT_MAX_BYTES (default 100 MB)."""
    return int(current_app.config.get("IMPORT_MAX_BYTES") or reading.DEFAULT_MAX_BYTES)


def clean_filename(name: str | None) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return CONTROL_CHARACTERS.sub("", base).strip()[:255] or "upload.csv"


def upload(
    business: Business, actor: StaffUser | None, filename: str, data: bytes, *, max_bytes=UNSET
) -> ImportJob:
    """Check the whole file, keep it (bytes in the job row, so any worker can read it), guess the
    mapping. `max_bytes`: None for no limit (the command), default the IMPORT_MAX_BYTES setting.
    Raises Invalid({"file": …}) for an empty, binary, header-only, too big, too wide file, a cell or
    row over its limit, or text that is neither UTF-8 nor Windows-1252."""
    info = reading.inspect(data or b"", upload_limit() if max_bytes is UNSET else max_bytes)
    job = ImportJob(
        business_id=business.id,
        created_by_id=actor.id if actor is not None else None,
        filename=clean_filename(filename),
        size_bytes=len(data),
        data=data,
        encoding=info.encoding,
        delimiter=info.delimiter,
        headers=info.headers,
        total_rows=info.total_rows,
        processed_rows=0,
        mapping={str(i): f for i, f in guess_mapping(info.headers).items()},
        policy="skip",
        status="uploaded",
    )
    db.session.add(job)
    db.session.flush()
    record(
        actor,
        "import.uploaded",
        business_id=business.id,
        job=job.id,
        filename=job.filename,
        rows=info.total_rows,
        size_bytes=len(data),
    )
    return job


def set_mapping(job: ImportJob, mapping: dict, policy: str) -> None:
    """Store the columns' fields ({column index: FIELDS key}) and the policy for matching rows.
    Raises Invalid on "mapping" (two columns on one field, no name, no email or phone column …),
    "policy", or "import" when the job is already queued or run."""
    if job.status not in ("uploaded", "failed"):
        raise Invalid("import", "This import was already started; upload the file again to change it.")
    if policy not in POLICIES:
        raise Invalid("policy", f"Choose what to do with matching customers: {', '.join(POLICIES)}.")
    clean = check_mapping(mapping, len(job.headers))
    job.mapping = {str(i): f for i, f in sorted(clean.items())}
    job.policy = policy
    db.session.flush()


def mapping_of(job: ImportJob) -> dict[int, str]:
    """The job's mapping, checked."""
    return check_mapping(job.mapping, len(job.headers))


def raw_batches(job: ImportJob, limit: int | None = None) -> Iterator[list[tuple[int, list[str]]]]:
    """The file's (line, cells), CHUNK at a time (the first `limit` rows only, if given)."""
    batch: list = []
    count = 0
    for item in reading.rows(job.data, job.encoding, job.delimiter):
        batch.append(item)
        count += 1
        if (limit is not None and count >= limit) or len(batch) >= CHUNK:
            yield batch
            batch = []
            if limit is not None and count >= limit:
                return
    if batch:
        yield batch


def reader_processes(rows: int) -> int:
    """How many worker processes read (normalize) the rows: none below PARALLEL_FROM rows, else
    the IMPORT_READERS setting (default: the CPUs, at most 4)."""
    if rows < PARALLEL_FROM:
        return 0
    setting = current_app.config.get("IMPORT_READERS")
    return int(setting) if setting is not None else min(4, os.cpu_count() or 1)


def read_chunks(job: ImportJob, business: Business, limit: int | None = None) -> Iterator[list[Row]]:
    """The file's rows read into values, a chunk at a time, in file order. From PARALLEL_FROM rows in
    worker processes (spawned: safe in a threaded worker), a few chunks ahead of the caller, which
    meanwhile plans and writes the chunks before: reading is the CPU-bound part (phone numbers,
    email syntax), writing waits on the database. Memory stays flat: at most 2 chunks per process
    are in flight."""
    mapping = mapping_of(job)
    processes = reader_processes(job.total_rows or 0) if limit is None else 0
    if processes <= 0:
        reader = RowReader(business, mapping)
        for batch in raw_batches(job, limit):
            yield [reader.read(line, cells) for line, cells in batch]
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        processes, initializer=start_reader, initargs=(BusinessFacts(business), mapping)
    ) as pool:
        pending: deque = deque()
        for batch in raw_batches(job):
            pending.append(pool.apply_async(read_batch, (batch,)))
            if len(pending) >= 2 * processes:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def planned_chunks(job: ImportJob, business: Business | None = None, *, limit: int | None = None):
    """The file's rows, read and planned, a chunk at a time."""
    business = business or db.session.get(Business, job.business_id)
    planner = Planner(business, job.policy)
    for chunk in read_chunks(job, business, limit):
        yield planner.plan(chunk)
    planner.seen.close()


def shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def preview(job: ImportJob, limit: int = 10) -> list[PreviewRow]:
    """The first `limit` rows as they will be stored, each with its problems and action."""
    out = []
    for chunk in planned_chunks(job, limit=limit):
        for row in chunk:
            values = {
                PREVIEW_KEYS.get(k, k): shown(v) for k, v in row.values.items() if k != "email_normalized"
            }
            if row.action == "create":
                values.setdefault("source", "import")
            out.append(PreviewRow(row.line, values, [*row.problems, *row.notes], row.action, row.reason))
    return out


def count(counts: dict, row: Row) -> None:
    key = {"create": "created", "update": "updated", "fill": "updated", "skip": "skipped"}
    counts[key.get(row.action, "rejected" if row.action == "reject" else "repeated")] += 1


def dry_run(job: ImportJob) -> Counts:
    """What `run` would do with the whole file, now; writes nothing."""
    counts = dict.fromkeys(Counts._fields, 0)
    for chunk in planned_chunks(job):
        for row in chunk:
            count(counts, row)
    return Counts(**counts)


# --- queue and run ---------------------------------------------------------------------------------


def queue(job: ImportJob, actor: StaffUser | None) -> None:
    """Hand the job to the worker (status "queued"). Commits first: the worker must see the job."""
    if job.status not in ("uploaded", "failed"):
        raise Invalid("import", "This import was already started.")
    mapping_of(job)
    job.status, job.error = "queued", None
    record(actor, "import.queued", business_id=job.business_id, job=job.id, policy=job.policy)
    db.session.commit()
    from webapp.imports.tasks import run_import
    from webapp.tasks import configure

    try:
        configure(current_app)
        run_import(job.id)
    except Exception as e:  # the queue is down: say so, leave the job as it was
        if isinstance(e, Invalid):
            raise
        current_app.logger.exception("could not enqueue import %s", job.id)
        db.session.rollback()
        db.session.execute(update(ImportJob).where(ImportJob.id == job.id).values(status="uploaded"))
        db.session.commit()
        raise Invalid("import", "The task queue cannot be reached; try again in a minute.") from None


def claim(job_id: int) -> bool:
    """Mark the job running if it is waiting; False when it is not (already running, done, undone)."""
    result = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status.in_(("uploaded", "queued", "failed")))
        .values(status="running", started_at=utcnow(), processed_rows=0, error=None)
    )
    db.session.commit()
    return result.rowcount == 1


def counts_of(job: ImportJob) -> Counts:
    return Counts(job.created, job.updated, job.skipped, job.rejected, job.repeated)


def run(job_id: int, progress=None) -> Counts:
    """Import the whole file in one transaction (see the module's docstring). `progress(processed,
    total)`, if given, is called after each chunk. A job that is not waiting is left as it is and its
    counts returned. Raises ImportFailed (the job then says "failed" with the reason)."""
    if db.session.get(ImportJob, job_id) is None:
        raise NotFound("There is no such import.")
    if not claim(job_id):
        return counts_of(db.session.get(ImportJob, job_id))
    job = db.session.get(ImportJob, job_id)
    at = {"line": None}
    collecting = gc.isenabled()
    gc.disable()  # the import's objects are freed by reference counting; full collections over a
    # heap of seen emails and phones grew with every chunk
    try:
        counts = apply(job, live_progress.Reporter(job.id, progress), at)
        db.session.commit()
    except Exception as e:
        db.session.rollback()
        where = f" at line {at['line']}" if at["line"] else ""
        detail = e.message if isinstance(e, Invalid) else f"{type(e).__name__}: {str(e)[:500]}"
        message = f"The import stopped{where} and nothing was saved. {detail}"
        db.session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(status="failed", error=message, finished_at=utcnow())
        )
        db.session.commit()
        live_progress.forget(job_id)
        current_app.logger.warning("import %s failed: %s", job_id, message)
        raise ImportFailed(message) from e
    finally:
        if collecting:
            gc.enable()
    live_progress.forget(job_id)
    return counts


def neutralized(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made text (OWASP: a leading apostrophe)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


class RejectedWriter:
    """The rejected and repeated rows as CSV text: line, the file's cells, reason."""

    def __init__(self, headers: list[str]):
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.width = len(headers)
        self.writer.writerow(["line", *[neutralized(h) for h in headers], "reason"])

    def add(self, row: Row) -> None:
        cells = (row.cells + [""] * self.width)[: self.width]
        self.writer.writerow([row.line, *[neutralized(c) for c in cells], row.reason])

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def jsonable(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


class Writer:
    """Writes one chunk of planned rows, set-based."""

    def __init__(self, job: ImportJob, business: Business, actor: StaffUser | None):
        self.job, self.business, self.actor = job, business, actor
        self.dialect = db.session.connection().dialect.name
        self.label = actor.display_name if actor is not None else "import"
        self.tags = {
            name.lower(): (tag_id, TagChip(name, color))
            for tag_id, name, color in db.session.execute(
                select(Tag.id, Tag.name, Tag.color).where(Tag.business_id == business.id)
            )
        }
        self.quiet = quiet_triggers()
        self.rebuild = Rebuild.wanted(job.total_rows or 0) and Rebuild(self.quiet)

    def tag_ids(self, names: list[str]) -> list[int]:
        """Ids of these tags, creating the ones the business does not have (grey, audited)."""
        return [tag_id for tag_id, _ in self.tag_faces(names)]

    def tag_faces(self, names: list[str]) -> list[tuple[int, TagChip]]:
        """(id, face) of these tags, creating the ones the business does not have (grey, audited)."""
        out: dict[int, TagChip] = {}
        for name in names:
            key = name.lower()
            if key not in self.tags:
                tag = Tag(business_id=self.business.id, name=name, color="grey")
                db.session.add(tag)
                db.session.flush()
                self.tags[key] = (tag.id, TagChip(tag.name, tag.color))
                record(
                    self.actor,
                    "tag.created",
                    business_id=self.business.id,
                    tag=name,
                    color="grey",
                    import_job=self.job.id,
                )
            tag_id, face = self.tags[key]
            out.setdefault(tag_id, face)
        return list(out.items())

    def insert(self, table, rows: list[dict]) -> None:
        if rows:
            names, values = driver_rows(table, rows, self.dialect)
            insert_rows(table.name, names, values)

    def write(self, rows: list[Row]) -> None:
        now = utcnow()
        bid, job_id = self.business.id, self.job.id
        customers, links, changes, events, updates, moved = [], [], [], [], [], []
        for row in rows:
            if row.action == "create":
                v = row.values
                customer_id = uuid.uuid4()
                born = v.get("date_of_birth")
                customer = {
                    "id": customer_id,
                    "business_id": bid,
                    "first_name": v.get("first_name", ""),
                    "last_name": v.get("last_name", ""),
                    "email": v.get("email"),
                    "email_normalized": v.get("email_normalized"),
                    "phone": v.get("phone"),
                    "date_of_birth": born,
                    "company": v.get("company", ""),
                    "address": v.get("address", ""),
                    "notes": v.get("notes", ""),
                    "source": v.get("source") or "import",
                    "custom_field_value": v.get("custom_field_value", ""),
                    "is_dummy": False,
                    "dummy_label": "",
                    "birth_month": born.month if born else None,
                    "created_at": v.get("created_at") or now,
                    "updated_at": now,
                    "version": 1,
                }
                add_search_keys(customer)
                faces = self.tag_faces(v.get("tags", []))
                customer["tag_list"] = tag_lists.list_of([f for _, f in faces])
                customers.append(customer)
                links += [{"business_id": bid, "customer_id": customer_id, "tag_id": t} for t, _ in faces]
                changes.append(self.change(customer_id, "created", None, None, 1))
                created = {f: jsonable(customer[f]) for f in STORED if customer[f]}
                events.append(
                    self.event("customer.created", customer_id, {**created, "import_job": job_id}, now)
                )
            elif row.action in ("update", "fill"):
                m = row.merged
                keys = search_keys(
                    m["first_name"],
                    m["last_name"],
                    m["dummy_label"],
                    m["email_normalized"],
                    m["phone"],
                    m["company"],
                )
                born = m["date_of_birth"]
                params = {f: m[f] for f in STORED}
                params.update(
                    keys,
                    email_normalized=m["email_normalized"],
                    is_dummy=m["is_dummy"],
                    birth_month=born.month if born else None,
                    updated_at=now,
                    b_id=row.customer_id,
                    b_business=bid,
                    b_version=row.version,
                )
                updates.append(params)
                added = self.tag_ids(row.add_tags)
                links += [{"business_id": bid, "customer_id": row.customer_id, "tag_id": t} for t in added]
                old = {f: jsonable(o) for f, (o, _) in row.changes.items()}
                new = {f: jsonable(n) for f, (_, n) in row.changes.items()}
                changes.append(
                    self.change(
                        row.customer_id,
                        "updated",
                        {**old, "tag_ids": []},
                        {**new, "tag_ids": added},
                        row.version + 1,
                    )
                )
                shown_changes = {
                    f: [jsonable(o), jsonable(n)]
                    for f, (o, n) in row.changes.items()
                    if f != "email_normalized"
                }
                if row.add_tags:
                    shown_changes["tags_added"] = row.add_tags
                events.append(
                    self.event(
                        "customer.updated", row.customer_id, {**shown_changes, "import_job": job_id}, now
                    )
                )
                if "email_normalized" in row.changes or "phone" in row.changes:
                    moved.append((row.customer_id, row.changes))
        retagged = list({link["customer_id"] for link in links} - {c["id"] for c in customers})
        self.quiet.off()  # the bucket and tag-list triggers, for inserts (kept by hand below)
        self.insert(Customer.__table__, customers)
        self.insert(customer_tag, links)
        self.insert(ImportChange.__table__, changes)
        self.insert(AuditEvent.__table__, events)
        self.quiet.on()
        if self.quiet.active and not self.rebuild:
            self.count_buckets(customers)
            if retagged:
                db.session.execute(
                    update(Customer.__table__)
                    .where(Customer.__table__.c.id.in_(retagged))
                    .values(tag_list=tag_lists.computed())
                )
        if updates:
            table = Customer.__table__
            statement = (
                update(table)
                .where(
                    table.c.id == bindparam("b_id"),
                    table.c.business_id == bindparam("b_business"),
                    table.c.version == bindparam("b_version"),
                )
                .values(version=table.c.version + 1)
            )
            result = db.session.execute(statement, updates)
            if db.engine.dialect.supports_sane_multi_rowcount and result.rowcount != len(updates):
                raise Invalid(
                    "import",
                    "Matching customers were changed by someone else while the import ran. Run it again.",
                )
        for customer_id, changed in moved:
            customer = db.session.get(Customer, customer_id)
            signals.contact_changed.send(
                customer,
                email_before=changed["email_normalized"][0] if "email_normalized" in changed else None,
                phone_before=changed["phone"][0] if "phone" in changed else None,
            )

    def count_buckets(self, customers: list[dict]) -> None:
        """What the rank-bucket trigger would have counted for the new customers (it was off)."""
        counts = Counter()
        for c in customers:
            counts["name", c["search_name"][:3]] += 1
            counts["created", c["created_at"].astimezone(UTC).date().isoformat()] += 1
        if counts:
            db.session.execute(
                text(
                    "INSERT INTO customer_rank_bucket AS b (business_id, sort, bucket, n) "
                    "VALUES (:b, :s, :k, :n) "
                    "ON CONFLICT (business_id, sort, bucket) DO UPDATE SET n = b.n + excluded.n"
                ),
                [{"b": self.business.id, "s": s, "k": k, "n": n} for (s, k), n in counts.items()],
            )

    def finish(self) -> None:
        if self.rebuild:
            self.rebuild.restore(self.business.id)
        self.quiet.restore()

    def change(self, customer_id, kind, old, new, version_after) -> dict:
        return {
            "job_id": self.job.id,
            "business_id": self.business.id,
            "customer_id": customer_id,
            "kind": kind,
            "old_values": json.dumps(old) if old is not None else None,
            "new_values": json.dumps(new) if new is not None else None,
            "version_after": version_after,
        }

    def event(self, action, customer_id, changes, now) -> dict:
        return {
            "business_id": self.business.id,
            "actor_id": self.actor.id if self.actor is not None else None,
            "actor_label": self.label,
            "action": action,
            "customer_id": customer_id,
            "changes": json.dumps(changes),
            "created_at": now,
        }


QUIET = ("customer_rank_bucket_ai", "customer_tag_list_ai")  # SQLite's insert triggers the import replaces


class quiet_triggers:
    """The rank-bucket and tag-list triggers off for the import's inserts, which keep both by hand
    (a trigger call per row, and on PostgreSQL the many versions of the same bucket row one
    transaction leaves, cost more than the inserts). SQLite: the two insert triggers are dropped in the
    import's transaction and made again before it commits (a rollback brings them back as well).
    PostgreSQL: `SET LOCAL session_replication_role = replica` around the inserts (no table lock; it
    also skips the foreign-key checks of rows the import builds itself); a role that may not set it
    keeps the triggers on (slower, as right). `active`: whether the import must count by hand."""

    def __init__(self):
        self.dialect = db.session.connection().dialect.name
        self.saved: list[str] = []
        self.active = False
        if self.dialect == "sqlite":
            # pysqlite opens its transaction before the first INSERT/UPDATE/DELETE only: DDL before any
            # would commit on its own. A harmless write first, so the drops roll back with the import.
            db.session.execute(text("UPDATE customer_rank_bucket SET n = n WHERE 0"))
            names = ", ".join(f"'{n}'" for n in QUIET)
            self.saved = list(
                db.session.execute(
                    text(f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})")
                ).scalars()
            )
            if len(self.saved) == len(QUIET):
                for name in QUIET:
                    db.session.execute(text(f'DROP TRIGGER "{name}"'))
                self.active = True
            else:
                self.saved = []
        elif self.dialect == "postgresql":
            try:
                with db.session.begin_nested():
                    db.session.execute(text("SET LOCAL session_replication_role = replica"))
                    db.session.execute(text("SET LOCAL session_replication_role = origin"))
                self.active = True
            except DBAPIError:
                self.active = False

    def off(self) -> None:
        if self.active and self.dialect == "postgresql":
            db.session.execute(text("SET LOCAL session_replication_role = replica"))

    def on(self) -> None:
        if self.active and self.dialect == "postgresql":
            db.session.execute(text("SET LOCAL session_replication_role = origin"))

    def restore(self) -> None:
        for statement in self.saved:
            db.session.execute(text(statement))
        self.saved = []


class Rebuild:
    """SQLite, a large import into a book no larger than twice the file: the customer and
    customer_tag indexes and triggers are dropped inside the import's transaction and made again
    before it commits, with the full-text index, the business's rank buckets and the tag lists
    recomputed once (building an index once beats updating it per row; the bulk loader of
    webapp/bulk.py does the same, committing per chunk). SQLite has one writer at a time and the
    import is it, so nobody else writes meanwhile; readers keep seeing the indexes of their snapshot;
    a rollback brings everything back. The two unique contact indexes stay (the planner's lookups
    use them, and they keep the rule)."""

    TABLES = ("customer", "customer_tag")
    KEEP = ("ix_customer_business_email", "ix_customer_business_phone")

    @staticmethod
    def wanted(rows: int) -> bool:
        if db.session.connection().dialect.name != "sqlite" or rows < BULK_REBUILD_FROM:
            return False
        book = db.session.scalar(text("SELECT count(*) FROM customer"))
        return rows * 2 >= book

    def __init__(self, quiet: "quiet_triggers"):
        names = ", ".join(f"'{t}'" for t in self.TABLES)
        rows = db.session.execute(
            text(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                f"AND tbl_name IN ({names}) AND sql IS NOT NULL"
            )
        ).all()
        # The unique contact indexes stay: the planner looks rows up by them, and they keep the rule.
        rows = [r for r in rows if r[1] not in self.KEEP]
        for kind, name, _ in rows:
            db.session.execute(text(f'DROP {kind.upper()} "{name}"'))
        # indexes first, then triggers (those quiet_triggers dropped are made again by it)
        self.saved = [sql for kind, _, sql in sorted(rows, key=lambda r: r[0] != "index")]
        self.saved = [s for s in self.saved if s not in quiet.saved]

    def restore(self, business_id: int) -> None:
        for statement in self.saved:
            db.session.execute(text(statement))
        db.session.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')"))
        deep_pages.rebuild(business_id)


def apply(job: ImportJob, report, at: dict) -> Counts:
    """Plan and write every chunk; finish the job row. Inside the caller's transaction."""
    business = db.session.get(Business, job.business_id)
    actor = db.session.get(StaffUser, job.created_by_id) if job.created_by_id else None
    writer = Writer(job, business, actor)
    rejected = RejectedWriter(job.headers)
    texts: list[str] = []
    counts = dict.fromkeys(Counts._fields, 0)
    processed, total = 0, job.total_rows or 0
    for chunk in planned_chunks(job, business):
        at["line"] = chunk[0].line
        for row in chunk:
            count(counts, row)
            if row.action in ("reject", "repeat"):
                rejected.add(row)
        writer.write(chunk)
        texts.append(rejected.take())
        processed += len(chunk)
        report(processed, max(total, processed))
    at["line"] = None
    writer.finish()
    result = Counts(**counts)
    job.status, job.finished_at = "done", utcnow()
    job.processed_rows = job.total_rows = processed
    job.created, job.updated, job.skipped = result.created, result.updated, result.skipped
    job.rejected, job.repeated = result.rejected, result.repeated
    job.rejected_text = "".join(texts)
    record(
        actor,
        "import.run",
        business_id=job.business_id,
        job=job.id,
        filename=job.filename,
        policy=job.policy,
        **result._asdict(),
    )
    db.session.flush()
    return result


# --- results ---------------------------------------------------------------------------------------


def rejected_csv(job: ImportJob) -> Iterator[str]:
    """The rejected (and repeated) rows with a "reason" column, as CSV text chunks, with a byte-order
    mark for spreadsheets. Before the import ran: what a dry run would reject now."""
    yield "\ufeff"
    if job.rejected_text is not None:
        text = job.rejected_text
        for start in range(0, len(text), 64 * 1024):
            yield text[start : start + 64 * 1024]
        return
    writer = RejectedWriter(job.headers)
    yield writer.take()
    for chunk in planned_chunks(job):
        for row in chunk:
            if row.action in ("reject", "repeat"):
                writer.add(row)
        yield writer.take()


def job_or_404(business: Business, job_id) -> ImportJob:
    """The business's import `job_id` (with live progress while it runs); NotFound otherwise."""
    try:
        number = int(job_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such import.") from None
    job = db.session.scalar(
        select(ImportJob).where(ImportJob.id == number, ImportJob.business_id == business.id)
    )
    if job is None:
        raise NotFound("There is no such import.")
    if job.status == "running":
        live = live_progress.read(job.id)
        if live is not None and live > job.processed_rows:
            set_committed_value(job, "processed_rows", live)
    return job


def jobs(business: Business, limit: int = 20) -> list[tuple[ImportJob, str | None]]:
    """The business's latest imports, newest first, each with the name of who uploaded it."""
    return list(
        db.session.execute(
            select(ImportJob, StaffUser.name)
            .outerjoin(StaffUser, StaffUser.id == ImportJob.created_by_id)
            .where(ImportJob.business_id == business.id)
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
            .limit(limit)
        ).all()
    )


# --- undo ------------------------------------------------------------------------------------------


def undo(job: ImportJob, actor: StaffUser | None) -> UndoResult:
    """Take a finished import back (within 30 days): remove the customers it created that nothing
    else references and nobody edited since; give customers it updated their old values back unless
    one of those fields changed since (then they are left alone and listed with why). Audited.
    Raises Invalid({"import": …}) when already undone, not finished, or too old."""
    if job.undone_at is not None or job.status == "undone":
        raise Invalid("import", f"This import was already undone on {job.undone_at:%d %b %Y at %H:%M} UTC.")
    if job.status != "done":
        raise Invalid("import", "Only a finished import can be undone.")
    if not job.can_undo:
        raise Invalid(
            "import", f"An import can be undone for 30 days; this one finished on {job.finished_at:%d %b %Y}."
        )
    now = utcnow()
    claimed = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.undone_at.is_(None), ImportJob.status == "done")
        .values(status="undone", undone_at=now, undone_by_id=actor.id if actor is not None else None)
    )
    if claimed.rowcount != 1:
        raise Invalid("import", "This import was already undone.")
    db.session.refresh(job)
    left_alone: list = []
    removed = remove_created(job, left_alone)
    restored = restore_updated(job, actor, left_alone)
    result = UndoResult(removed, restored, left_alone)
    job.undo_report = {
        "removed": removed,
        "restored": restored,
        "left_alone": [[str(c), n, w] for c, n, w in left_alone],
    }
    record(
        actor,
        "import.undone",
        business_id=job.business_id,
        job=job.id,
        filename=job.filename,
        removed=removed,
        restored=restored,
        left_alone=len(left_alone),
    )
    db.session.flush()
    return result


def name_of(first, last, label) -> str:
    return " ".join(p for p in (first, last) if p) or label or "Unnamed customer"


def changes_of(job: ImportJob, kind: str):
    """The job's change rows of one kind, a chunk at a time."""
    last = 0
    while True:
        chunk = list(
            db.session.scalars(
                select(ImportChange)
                .where(ImportChange.job_id == job.id, ImportChange.kind == kind, ImportChange.id > last)
                .order_by(ImportChange.id)
                .limit(CHUNK)
            )
        )
        if not chunk:
            return
        last = chunk[-1].id
        yield chunk


def remove_created(job: ImportJob, left_alone: list) -> int:
    removed = 0
    bid = job.business_id
    for chunk in changes_of(job, "created"):
        ids = [c.customer_id for c in chunk]
        rows = {
            r.id: r
            for r in db.session.execute(
                select(
                    Customer.id,
                    Customer.version,
                    Customer.first_name,
                    Customer.last_name,
                    Customer.dummy_label,
                    Customer.anonymized_at,
                    Customer.merged_into_id,
                ).where(Customer.business_id == bid, Customer.id.in_(ids))
            )
        }
        booked = set(
            db.session.scalars(select(Booking.customer_id).where(Booking.customer_id.in_(ids)).distinct())
        )
        survivors = set(
            db.session.scalars(
                select(Customer.merged_into_id).where(Customer.merged_into_id.in_(ids)).distinct()
            )
        )
        paid = set(
            db.session.scalars(
                union(
                    *(
                        select(m.customer_id).where(m.business_id == bid, m.customer_id.in_(ids))
                        for m in MONEY_ROWS
                    )
                )
            )
        )
        gone = []
        for change in chunk:
            r = rows.get(change.customer_id)
            if r is None:
                continue  # removed since (erased, merged away and deleted): nothing to do
            why = None
            if r.anonymized_at is not None:
                why = "Anonymized since the import."
            elif r.merged_into_id is not None:
                why = "Merged into another customer since the import."
            elif change.customer_id in survivors:
                why = "Another customer was merged into this one since the import."
            elif change.customer_id in booked:
                why = "Has bookings since the import."
            elif change.customer_id in paid:
                why = "Has sales, points, a stamp card or store credit since the import."
            elif r.version != change.version_after:
                why = "Edited since the import."
            if why:
                left_alone.append((r.id, name_of(r.first_name, r.last_name, r.dummy_label), why))
            else:
                gone.append(r.id)
        if gone:
            if signals.customer_deleting.receivers:
                for customer in db.session.scalars(select(Customer).where(Customer.id.in_(gone))):
                    signals.customer_deleting.send(customer)
            db.session.execute(
                delete(Customer).where(Customer.business_id == bid, Customer.id.in_(gone)),
                execution_options={"synchronize_session": False},
            )
            removed += len(gone)
    return removed


def restore_updated(job: ImportJob, actor: StaffUser | None, left_alone: list) -> int:
    restored = 0
    bid = job.business_id
    tag_names = dict(db.session.execute(select(Tag.id, Tag.name).where(Tag.business_id == bid)).all())
    for chunk in changes_of(job, "updated"):
        ids = [c.customer_id for c in chunk]
        customers = {
            c.id: c
            for c in db.session.scalars(
                select(Customer).where(Customer.business_id == bid, Customer.id.in_(ids))
            )
        }
        for change in chunk:
            customer = customers.get(change.customer_id)
            if customer is None:
                continue
            old, new = dict(change.old_values or {}), dict(change.new_values or {})
            added_tags = new.pop("tag_ids", [])
            old.pop("tag_ids", None)
            name = customer.display_name
            if customer.anonymized_at is not None or customer.merged_into_id is not None:
                left_alone.append((customer.id, name, "Anonymized or merged since the import."))
                continue
            moved = [f for f, value in new.items() if jsonable(getattr(customer, f)) != value]
            if moved:
                labels = ", ".join(f.replace("_", " ") for f in moved if f != "email_normalized")
                left_alone.append(
                    (customer.id, name, f"Changed since the import by someone else ({labels}).")
                )
                continue
            email_before, phone_before = customer.email_normalized, customer.phone
            changed = {}
            for f, value in old.items():
                if f == "date_of_birth" and value:
                    value = date.fromisoformat(value)
                changed[f] = [jsonable(getattr(customer, f)), jsonable(value)]
                setattr(customer, f, value)
            if added_tags:
                db.session.execute(
                    delete(customer_tag).where(
                        customer_tag.c.business_id == bid,
                        customer_tag.c.customer_id == customer.id,
                        customer_tag.c.tag_id.in_(added_tags),
                    )
                )
                changed["tags_removed"] = [tag_names.get(t, str(t)) for t in added_tags]
            customer.updated_at = utcnow()
            changed.pop("email_normalized", None)
            record(actor, "customer.updated", customer, import_undo=job.id, **changed)
            db.session.flush()
            if customer.email_normalized != email_before or customer.phone != phone_before:
                signals.contact_changed.send(
                    customer,
                    email_before=email_before if customer.email_normalized != email_before else None,
                    phone_before=phone_before if customer.phone != phone_before else None,
                )
            restored += 1
    return restored


def live_count(business: Business) -> int:
    """How many customers the business has (the command's summary)."""
    return db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.business_id == business.id)
    )
