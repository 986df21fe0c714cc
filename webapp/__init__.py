"""Frontdesk: the customer book of an appointment business."""

import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp.checkpoints import AUTOCHECKPOINT_PAGES
from webapp.config import DEV_SECRET_KEY, Defaults, settings_from_env

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides everything (tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    app.config.update(settings_from_env())
    app.config.update(config or {})
    configure(app)
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    return app


def configure(app: Flask) -> None:
    """Fill in derived settings and refuse unsafe ones."""
    development = app.debug or app.testing
    if not development and app.config["SECRET_KEY"] in (None, "", DEV_SECRET_KEY):
        raise RuntimeError("Set SECRET_KEY (a long random string) before running Frontdesk in production.")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'frontdesk.sqlite3'}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {
            "check_same_thread": False,
            "timeout": 15,
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(name) is None:  # not set by any source: Secure outside development
            app.config[name] = not development


SQLITE_CACHE_SIZE = -65536  # KiB of page cache per SQLite connection (negative: a size, not pages)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, foreign keys, a busy timeout and memory-mapped reads on every SQLite connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        # Web workers checkpoint in the background (webapp/checkpoints.py); this is the safety net.
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        # Read through a memory map (no read() call and copy per page) with 64 MB of page cache per
        # connection: a search touches a few hundred pages of a multi-GB book, different ones each time.
        cursor.execute("PRAGMA mmap_size=2147418112")
        cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_SIZE}")
        cursor.close()


@event.listens_for(Engine, "connect")
def _postgres_custom_plans(dbapi_connection, connection_record) -> None:
    """No server-side prepared statements (nor parallel workers) on PostgreSQL: after five runs
    psycopg prepares a statement and PostgreSQL may switch to a generic plan, which cannot see that
    `search_name >= 'jo'` is a narrow prefix range or how rare a filter value is, and turns 1 ms
    searches into 10+ ms ones."""
    if hasattr(dbapi_connection, "prepare_threshold"):
        dbapi_connection.prepare_threshold = None
        # Pages of 30 rows: starting parallel workers costs more than a whole page's query.
        dbapi_connection.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.commit()


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    from webapp import models  # noqa: F401  (every table registered before migrations look)
    from webapp.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,
        include_object=schema_object_is_modelled,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from webapp import checkpoints, edge, error_pages, formatting, security

    checkpoints.init_app(app)
    edge.init_app(app)  # before security's access check: a bad query string is refused signed in or not
    security.init_app(app)
    error_pages.init_app(app)
    formatting.init_app(app)


def schema_object_is_modelled(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Leave engine-specific search structures (SQLite FTS5 tables, PostgreSQL trigram indexes) out of
    `db check`: the migrations make them for one engine only."""
    if name is None:
        return True
    if type_ == "index" and name in ENGINE_SHAPED_INDEXES:
        return False
    return not ((type_ == "table" and "_fts" in name) or (type_ == "index" and name.endswith("_trgm")))


# Indexes whose PostgreSQL form differs from the model on purpose (e.g. NULLS LAST ordering).
ENGINE_SHAPED_INDEXES = {"ix_customer_sort_last_visit"}


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per feature."""
    from webapp import api, auth, blacklist, bookings, customers, merge, money, picker, settings

    for module in (auth, customers, bookings, blacklist, merge, picker, settings, money, api):
        app.register_blueprint(module.bp)
    app.register_blueprint(api.docs_bp)  # /api/v1/openapi.json, /api/docs
    app.register_blueprint(api.keys_bp)  # /settings/api-keys, `flask create-api-key`
    from webapp.imports.views import bp as imports_bp  # /customers/import, /imports/<id> (the CSV import)

    app.register_blueprint(imports_bp)
    from webapp.exports import bp as exports_bp  # CSV and JSON exports, /settings/retention

    app.register_blueprint(exports_bp)
    from webapp.loyalty import bp as loyalty_bp  # stamp cards, /cards/<code>, /settings/cards and /outbox

    app.register_blueprint(loyalty_bp)


def register_cli(app: Flask) -> None:
    """Add the management commands (`flask --app wsgi …`)."""
    from webapp import cli

    cli.init_app(app)
