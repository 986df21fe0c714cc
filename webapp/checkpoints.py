"""SQLite's WAL checkpoints off the request path.

SQLite copies the write-ahead log back into the database file (a checkpoint) when the log passes
`wal_autocheckpoint` pages, inside whichever commit crosses that line: that commit then waits for the
copy and its fsync. With the customer table's 22 indexes a create writes some 30 pages, so about one
commit in 30 paid it (API creates at 1,000,000 customers: p95 23-28 ms with SQLite's default of 1,000
pages, 12-14 ms when no commit checkpoints). So each web worker checkpoints in a daemon thread of its
own, once a second (PASSIVE: it never blocks a reader or a writer), and the automatic checkpoint stays
on at a higher mark only as a safety net for processes without that thread (commands, the task
worker) or a burst of writes faster than the thread.
"""

import logging
import os
import threading

from flask import Flask, current_app

from webapp.extensions import db

AUTOCHECKPOINT_PAGES = 20_000  # 80 MB of log at 4 KB pages, then a commit checkpoints after all
INTERVAL = 1.0  # seconds between background checkpoints

log = logging.getLogger(__name__)
_running_in: int | None = None  # the process whose thread runs (a forked worker starts its own)
_stop = threading.Event()  # set by `stop` (tests)


def init_app(app: Flask) -> None:
    """Start the background checkpoints with the first request of each process (SQLite only; off in
    tests unless SQLITE_BACKGROUND_CHECKPOINTS says so)."""
    enabled = app.config.get("SQLITE_BACKGROUND_CHECKPOINTS")
    if enabled is None:
        enabled = not app.testing
    if enabled and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.before_request(ensure_started)


def ensure_started() -> None:
    """Start this process's checkpoint thread unless it runs already."""
    global _running_in
    if _running_in == os.getpid():
        return
    _running_in = os.getpid()
    _stop.clear()
    app = current_app._get_current_object()
    threading.Thread(target=checkpoint_forever, args=(app,), name="sqlite-checkpoints", daemon=True).start()


def checkpoint_forever(app: Flask) -> None:
    """Every INTERVAL seconds, copy what the log holds into the database file."""
    with app.app_context():
        engine = db.engine
    while not _stop.wait(INTERVAL):
        try:
            checkpoint(engine)
        except Exception:  # a locked or vanished file: log it, try again next time
            log.exception("background WAL checkpoint failed")


def stop() -> None:
    """End this process's checkpoint thread (a test's)."""
    global _running_in
    _stop.set()
    _running_in = None


def checkpoint(engine) -> tuple[int, int, int]:
    """One passive checkpoint: (busy, frames in the log, frames copied into the database file)."""
    with engine.connect() as connection:
        return tuple(connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one())
