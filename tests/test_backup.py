"""`flask backup` taken while another connection writes, then `flask restore`: every committed row is back.

PostgreSQL is tested only on a database of its own (BACKUP_TEST_DATABASE_URL, e.g. one made with
`createdb frontdesk_backup_test`), never the shared test database: the restore replaces everything.
"""

import os
import threading
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from webapp import create_app
from webapp.config import normalize_database_url
from webapp.extensions import db


class Writer(threading.Thread):
    """Commits one business row after another on its own connection, noting each once committed."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url, connect_args={"timeout": 15} if url.startswith("sqlite") else {})
        self.committed: list[str] = []
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                name = f"Written {i}"
                with self.engine.begin() as conn:
                    conn.execute(
                        text(
                            "INSERT INTO business (name, timezone, phone_region, currency, points_per_unit,"
                            " point_value_minor, created_at) VALUES (:n, 'UTC', 'GB', 'GBP', 0, 0, :t)"
                        ),
                        {"n": name, "t": "2026-12-01 00:00:00+00:00"},
                    )
                self.committed.append(name)  # only after the commit returned
                i += 1
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.engine.dispose()


def names(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(text("SELECT name FROM business WHERE name LIKE 'Written %'")))


def backup_during_writes_then_restore(app, tmp_path):
    """Back up while the writer runs; write more after; restore. Returns (before, after, restored)."""
    writer = Writer(app.config["SQLALCHEMY_DATABASE_URI"])
    writer.start()
    while len(writer.committed) < 30 and writer.is_alive():
        time.sleep(0.01)
    before = list(writer.committed)  # every one of these committed before the backup began
    file = tmp_path / "frontdesk.backup"
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    time.sleep(0.2)
    writer.stop.set()
    writer.join(10)
    assert writer.error is None, writer.error
    after_all = list(writer.committed)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["restore", "--yes", str(file)])
    assert result.exit_code == 0, result.output
    assert "Restored the database" in result.output
    return before, after_all, names(app)


def test_sqlite_backup_during_writes_keeps_every_committed_row(app, tmp_path):
    if app.backend != "sqlite":
        pytest.skip("the SQLite backup API")
    db.session.commit()
    db.session.remove()
    before, after_all, restored = backup_during_writes_then_restore(app, tmp_path)
    assert set(before) <= restored
    assert restored <= set(after_all) and len(after_all) > len(restored)  # later writes are gone again
    assert (tmp_path / "frontdesk.backup").read_bytes()[:16] == b"SQLite format 3\x00"


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    if app.backend != "sqlite":
        pytest.skip("the SQLite backup API")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all")
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(junk)])
    assert result.exit_code != 0 and "not a SQLite backup" in result.output


def test_restore_asks_first(app, tmp_path):
    file = tmp_path / "b"
    file.write_bytes(b"")
    result = app.test_cli_runner().invoke(args=["restore", str(file)], input="n\n")
    assert result.exit_code != 0 and "Carry on?" in result.output


@pytest.mark.skipif(
    not os.environ.get("BACKUP_TEST_DATABASE_URL"), reason="needs a PostgreSQL database of its own"
)
def test_postgresql_backup_during_writes_keeps_every_committed_row(tmp_path):
    url = normalize_database_url(os.environ["BACKUP_TEST_DATABASE_URL"])
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    pg = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url})
    with pg.app_context():
        upgrade()
    pg.backend = "postgresql"
    before, after_all, restored = backup_during_writes_then_restore(pg, tmp_path)
    assert set(before) <= restored
    assert restored <= set(after_all) and len(after_all) > len(restored)
    with pg.app_context():
        db.engine.dispose()
