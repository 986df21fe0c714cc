"""How far a running import has got, visible to other sessions while its one transaction is open.

The import writes every row in a single transaction (all or nothing), so its progress cannot travel in
that transaction. PostgreSQL: each report is a short UPDATE of the job's `processed_rows` on another
pooled connection, committed at once (the import's transaction only holds a key-share lock on the job
row, through import_change's foreign key, which an UPDATE of other columns does not wait for).
SQLite allows one writer at a time and the import holds it, so reports go to a small side database
next to the main file (`<database>-progress`); SQLite means one host, so the web process reads it
from the same disk. `current` gives what a screen should show either way.
"""

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from webapp.extensions import db

MEMORY: dict[int, int] = {}  # an in-memory SQLite database: the same process only
EVERY_SECONDS = 0.5


def side_file() -> Path | None:
    """The side database of a SQLite main database (None: in memory, or not SQLite)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}-progress")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS progress (job_id INTEGER PRIMARY KEY, processed INTEGER)")
    return conn


def write(job_id: int, processed: int) -> None:
    """Record that `processed` rows of the job are done, outside the import's transaction."""
    if db.engine.dialect.name != "sqlite":
        with db.engine.connect() as conn:
            conn.execute(
                text("UPDATE import_job SET processed_rows = :n WHERE id = :id"),
                {"n": processed, "id": job_id},
            )
            conn.commit()
        return
    path = side_file()
    if path is None:
        MEMORY[job_id] = processed
        return
    conn = connect(path)
    try:
        conn.execute("INSERT OR REPLACE INTO progress (job_id, processed) VALUES (?, ?)", (job_id, processed))
    finally:
        conn.close()


def read(job_id: int) -> int | None:
    """The processed rows a report said (SQLite's side database), None when there is none."""
    if db.engine.dialect.name != "sqlite":
        return None
    path = side_file()
    if path is None:
        return MEMORY.get(job_id)
    if not path.exists():
        return None
    conn = connect(path)
    try:
        found = conn.execute("SELECT processed FROM progress WHERE job_id = ?", (job_id,)).fetchone()
    finally:
        conn.close()
    return found[0] if found else None


def forget(job_id: int) -> None:
    """Drop the side record once the job's own row holds the final figures."""
    if db.engine.dialect.name != "sqlite":
        return
    path = side_file()
    if path is None:
        MEMORY.pop(job_id, None)
        return
    if path.exists():
        conn = connect(path)
        try:
            conn.execute("DELETE FROM progress WHERE job_id = ?", (job_id,))
        finally:
            conn.close()


class Reporter:
    """Calls `write` at most every EVERY_SECONDS (and the caller's own callback at every chunk)."""

    def __init__(self, job_id: int, callback=None):
        self.job_id, self.callback, self.last = job_id, callback, 0.0

    def __call__(self, processed: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= EVERY_SECONDS or processed >= total:
            self.last = now
            write(self.job_id, processed)
        if self.callback is not None:
            self.callback(processed, total)
