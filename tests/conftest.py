"""Fixtures: the app on each database, isolated data per test, signed-in clients of each role, factories."""

import os
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from helpers import PASSWORD, sign_in
from webapp import create_app
from webapp.auth.passwords import hash_password
from webapp.extensions import db, limiter
from webapp.models import Booking, Business, Customer, Location, StaffUser, Tag, customer_tag

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


class Client(FlaskClient):
    """A test client whose every request runs in a fresh app context (fresh `g` and session),
    with the test's own session committed before and expired after, so both see the same data."""

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


def reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The app on one backend, its schema made by the migrations (as in production)."""
    from webapp.config import normalize_database_url

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = normalize_database_url(os.environ["TEST_DATABASE_URL"])
        reset_postgres(url)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1,
            "SERVER_NAME": None,
        }
    )
    app.test_client_class = Client
    with app.app_context():
        upgrade()
    app.backend = request.param
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _context(app):
    """An app context for the test's own queries; every table emptied afterwards."""
    limiter.reset()
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if app.backend == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:  # children first; foreign keys stay on
                for name in reversed(tables):
                    conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def client(app):
    """An anonymous browser."""
    return app.test_client()


# --- factories ---------------------------------------------------------------------------------


@pytest.fixture
def make_business():
    """Make a business (with one location, "Main")."""

    def make(name=None, **fields):
        business = Business(
            name=name or f"Business {uuid.uuid4().hex[:6]}",
            timezone=fields.pop("timezone", "Europe/London"),
            phone_region=fields.pop("phone_region", "GB"),
            currency=fields.pop("currency", "GBP"),
            **fields,
        )
        db.session.add(business)
        db.session.flush()
        db.session.add(Location(business_id=business.id, name="Main"))
        db.session.commit()
        return business

    return make


@pytest.fixture
def business(make_business):
    """The default business of a test."""
    return make_business("Test Salon")


@pytest.fixture
def location(business):
    """The default business's first location."""
    return db.session.scalar(db.select(Location).where(Location.business_id == business.id))


@pytest.fixture
def make_user(business):
    """Make a staff member (default business, given role) who can sign in with PASSWORD."""

    def make(role="receptionist", business_=None, email=None, **fields):
        b = business_ or business
        loc = db.session.scalar(db.select(Location.id).where(Location.business_id == b.id))
        user = StaffUser(
            business_id=b.id,
            email=email or f"{role}-{uuid.uuid4().hex[:6]}@example.com",
            name=fields.pop("name", role.title()),
            role=role,
            password_hash=hash_password(PASSWORD),
            current_location_id=loc,
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(app, make_user):
    """A client signed in as a new user of `role` (optionally in another business)."""

    def login(role="receptionist", business_=None, **fields):
        user = make_user(role, business_, **fields)
        client = sign_in(app.test_client(), user)
        client.user = user
        return client

    return login


@pytest.fixture
def make_customer(business):
    """Make a customer directly (no service rules), in the default business unless given one."""
    counter = {"n": 0}

    def make(business_=None, **fields):
        counter["n"] += 1
        n = counter["n"]
        b = business_ or business
        defaults = dict(
            first_name=f"Customer{n}",
            last_name="Test",
            email=f"customer{n}-{uuid.uuid4().hex[:4]}@example.com",
        )
        defaults.update(fields)
        if defaults.get("email") and "email_normalized" not in fields:
            defaults["email_normalized"] = defaults["email"].lower()
        tags = defaults.pop("tags", [])
        customer = Customer(business_id=b.id, **defaults)
        db.session.add(customer)
        db.session.flush()
        if tags:  # link rows carry business_id, which the ORM collection cannot fill in
            db.session.execute(
                customer_tag.insert(),
                [{"business_id": b.id, "customer_id": customer.id, "tag_id": t.id} for t in tags],
            )
        db.session.commit()
        db.session.expire(customer, ["tags"])
        return customer

    return make


@pytest.fixture
def make_tag(business):
    """Make a tag in the default business."""

    def make(name, color="grey", business_=None):
        tag = Tag(business_id=(business_ or business).id, name=name, color=color)
        db.session.add(tag)
        db.session.commit()
        return tag

    return make


@pytest.fixture
def make_booking(location):
    """Make a booking row directly (no counters), starting `days` from now."""

    def make(customer, days=1, status="booked", price=5000, cancelled_by=None, location_=None, **fields):
        start = fields.pop("starts_at", datetime.now(UTC).replace(microsecond=0) + timedelta(days=days))
        loc = location_ or location
        booking = Booking(
            business_id=customer.business_id,
            customer_id=customer.id,
            location_id=loc.id,
            service=fields.pop("service", "Cut"),
            staff_name=fields.pop("staff_name", "Amira"),
            starts_at=start,
            ends_at=fields.pop("ends_at", start + timedelta(hours=1)),
            status=status,
            cancelled_by=cancelled_by,
            price=price,
            **fields,
        )
        db.session.add(booking)
        db.session.commit()
        return booking

    return make


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def count_queries(app):
    """`with count_queries() as q: ...` then `q.count` is the number of SQL statements run."""

    @contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def csrf_app(app):
    """Turn CSRF checking on for one test."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False
