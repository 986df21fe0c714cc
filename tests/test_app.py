"""The factory, settings, headers, error pages, database pragmas and migrations."""

import sqlite3

import pytest
from flask_migrate import check as migrate_check
from sqlalchemy import text

from helpers import HX
from webapp import SQLITE_CACHE_SIZE, create_app
from webapp.config import normalize_database_url
from webapp.extensions import db


def test_refuses_to_start_without_a_secret_key_in_production(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5432/frontdesk")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SAMESITE", "Strict")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/frontdesk"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # Secure by default outside development
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"


def test_secure_cookie_can_be_turned_off_for_a_trusted_network(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    assert create_app().config["SESSION_COOKIE_SECURE"] is False


def test_database_url_spellings():
    assert normalize_database_url("postgresql://a/b") == "postgresql+psycopg://a/b"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_healthz_is_public_and_checks_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok"}


def test_security_headers_on_every_response(app, client, login_as):
    for c, path in ((client, "/login"), (login_as("owner"), "/customers"), (client, "/healthz")):
        r = c.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert f"script-src 'self' {app.config['HTMX_URL']}" in csp
        for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"):
            assert part in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "HX-Request" in r.headers["Vary"]


def test_signed_in_pages_are_not_cached(login_as, client):
    assert login_as("receptionist").get("/customers").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_session_cookie_flags(app, client, make_user):
    from helpers import PASSWORD

    make_user("receptionist", email="ann@example.com")
    r = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_base_layout_pins_htmx_with_integrity_and_safe_config(app, login_as):
    html = login_as("receptionist").get("/customers").text
    assert f'src="{app.config["HTMX_URL"]}" integrity="{app.config["HTMX_INTEGRITY"]}"' in html
    assert "htmx.org@2." in app.config["HTMX_URL"]
    for setting in (
        '"historyCacheSize": 0',
        '"allowEval": false',
        '"selfRequestsOnly": true',
        '"includeIndicatorStyles": false',
    ):
        assert setting in html
    assert "X-CSRFToken" in html


def test_error_pages_are_generic(app, login_as, monkeypatch):
    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.view_functions, "customers.search", boom)
    app.config["SHOW_ERROR_PAGES"] = True
    try:
        client = login_as("owner")
        r = client.get("/customers")
        assert r.status_code == 500
        assert "Something went wrong" in r.text
        assert "secret internals" not in r.text and "Traceback" not in r.text
        r = client.get("/no/such/page")
        assert r.status_code == 404 and "Not found" in r.text
    finally:
        app.config["SHOW_ERROR_PAGES"] = False


def test_sqlite_runs_with_wal_foreign_keys_and_memory_mapped_reads(app):
    if app.backend != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA cache_size")).scalar() == SQLITE_CACHE_SIZE
    assert db.session.execute(text("PRAGMA mmap_size")).scalar() > 0  # capped by how SQLite was built


def test_migrations_and_models_agree(app):
    """The schema made by `db upgrade` is exactly what the models describe (`db check`)."""
    migrate_check()  # raises when autogenerate would find a difference


def test_fresh_database_upgrade_then_check(tmp_path):
    from flask_migrate import upgrade

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/fresh.db"})
    with fresh.app_context():
        upgrade()
        migrate_check()
        names = set(db.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"business", "customer", "booking", "audit_event", "staff_user", "tag"} <= names
    con = sqlite3.connect(tmp_path / "fresh.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_htmx_request_for_page_gets_vary_header(login_as):
    r = login_as("receptionist").get("/customers", headers=HX)
    assert "HX-Request" in r.headers["Vary"]


# --- what templates show: money and numbers (Babel), the header's locations ----------------------


def test_money_is_babels_on_the_list_and_the_profile(make_business, login_as, make_customer):
    from babel.numbers import format_currency

    india = make_business("Mumbai Salon", phone_region="IN", currency="INR", timezone="Asia/Kolkata")
    client = login_as("receptionist", india)
    customer = make_customer(india, first_name="Asha", last_name="Rao", total_spent=10_000_000)
    expected = format_currency(100_000, "INR", locale="en_IN")
    assert expected == "₹1,00,000.00"  # lakh grouping, as India writes it
    assert expected in client.get("/customers").get_data(as_text=True)
    assert expected in client.get(f"/customers/{customer.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "locale, currency",
    [
        ("en_GB", "GBP"),
        ("en_IN", "INR"),
        ("en_DE", "EUR"),
        ("en_CH", "CHF"),
        ("en_GB", "JPY"),
        ("en_ZA", "ZAR"),
    ],
)
def test_money_formatter_agrees_with_babel(locale, currency):
    from decimal import Decimal

    from babel.numbers import format_currency, format_decimal

    from webapp.formatting import money_formatter, number_formatter

    money, number = money_formatter(currency, locale), number_formatter(locale)
    for minor in (0, 7, -7, 12345, -98765432, 10_000_000, 123_456_789_012):
        assert money(minor) == format_currency(Decimal(minor) / 100, currency, locale=locale)
        assert number(minor) == format_decimal(minor, locale=locale)


def test_unknown_locale_falls_back_to_a_plain_format():
    from webapp.formatting import money_formatter

    assert money_formatter("EUR", "en_XK")(123456) == "EUR 1,234.56"


def test_header_locations_load_for_pages_not_for_fragments(app, login_as, count_queries):
    client = login_as("receptionist")
    assert "header_locations" not in app.jinja_env.globals  # no template global that queries
    page = client.get("/customers/new").get_data(as_text=True)
    assert 'id="location-switch"' in page and ">Main</option>" in page
    with count_queries() as q:
        r = client.get("/customers?q=zz", headers=HX)
    assert r.status_code == 200 and 'id="location-switch"' not in r.get_data(as_text=True)
    assert not any("location.active" in s for s in q.statements)
