"""SQLite's WAL checkpoints run in a thread of each web worker, not in the commit that fills the log."""

import threading
import time

import pytest
from sqlalchemy import text

from webapp import checkpoints, create_app
from webapp.extensions import db


def test_every_sqlite_connection_checkpoints_late(app):
    if app.backend != "sqlite":
        pytest.skip("a SQLite setting")
    assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == checkpoints.AUTOCHECKPOINT_PAGES


def test_a_web_worker_checkpoints_in_the_background(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "INTERVAL", 0.05)
    monkeypatch.setattr(checkpoints, "_running_in", None)
    seen = []
    real = checkpoints.checkpoint
    monkeypatch.setattr(checkpoints, "checkpoint", lambda engine: seen.append(real(engine)) or seen[-1])
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'wal.sqlite3'}",
            "SQLITE_BACKGROUND_CHECKPOINTS": True,
        }
    )
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (x TEXT)"))
        db.session.commit()
        app.test_client().get("/healthz")  # the first request starts the thread
        app.test_client().get("/healthz")  # a second starts no other
        assert [t.name for t in threading.enumerate()].count("sqlite-checkpoints") == 1
        for i in range(100):
            db.session.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * 2000 + str(i)})
            db.session.commit()
        deadline = time.monotonic() + 5
        try:
            while not any(logged > 0 and copied == logged for _, logged, copied in seen):
                assert time.monotonic() < deadline, seen[-5:]
                time.sleep(0.05)
        finally:
            checkpoints.stop()
            db.engine.dispose()


def test_tests_and_postgresql_run_no_thread(app):
    assert checkpoints.ensure_started not in app.before_request_funcs.get(None, [])
