"""Default settings and the environment variables that override them."""

import os
from datetime import timedelta

HTMX_VERSION = "2.0.11"
HTMX_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
DEV_SECRET_KEY = "dev-only-not-secret"


class Defaults:
    """Settings every deployment starts from."""

    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in by the factory: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    # The IETF RateLimit header names (the API's limits per key; webapp/api/conventions.py).
    RATELIMIT_HEADER_LIMIT = "RateLimit-Limit"
    RATELIMIT_HEADER_REMAINING = "RateLimit-Remaining"
    RATELIMIT_HEADER_RESET = "RateLimit-Reset"
    API_RATE_LIMIT = "600/minute"
    LOGIN_RATE_PER_ACCOUNT = "5 per 5 minutes"
    LOGIN_RATE_PER_ADDRESS = "60 per 5 minutes"
    HTMX_URL = HTMX_URL
    # PostgreSQL: run the customer search as prepared statements (see webapp/search/prepared.py); turn off
    # behind a pooler that hands out server connections per transaction (PgBouncer's transaction mode).
    SEARCH_PREPARED_STATEMENTS = True
    HTMX_INTEGRITY = HTMX_INTEGRITY
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "frontdesk_session"
    SESSION_COOKIE_SECURE = None  # None: Secure unless in development or tests
    REMEMBER_COOKIE_SECURE = None
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)  # absolute session lifetime
    SESSION_IDLE_TIMEOUT = timedelta(minutes=60)
    # The cookie is re-issued when the session changes (sign-in, the idle clock's 30-second refresh in
    # security.session_expired), not re-signed on every request.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_SSL_STRICT = False  # Referer checks break behind proxies; SameSite + token suffice
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # every request body but the CSV import's upload:
    IMPORT_MAX_BYTES = 100 * 1024 * 1024  # a file for /customers/import (managers; `edge.body_limit`)
    # argon2id parameters (OWASP: m=64 MiB, t=3, p=4 is well above the minimum)
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    # Outgoing email (card links): smtp://host:port or smtp+starttls://user:password@host:port; None keeps
    # every message in the outbox only (/settings/outbox), as in development.
    MAIL_URL = None
    MAIL_FROM = "frontdesk@localhost"


def settings_from_env() -> dict:
    """The documented environment variables, when set."""
    out = {}
    for name in (
        "SECRET_KEY",
        "RATELIMIT_STORAGE_URI",
        "HTMX_URL",
        "HTMX_INTEGRITY",
        "HUEY_URL",
        "MAIL_URL",
        "MAIL_FROM",
    ):
        if os.environ.get(name):
            out[name] = os.environ[name]
    if os.environ.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(os.environ["DATABASE_URL"])
    return out


def normalize_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
