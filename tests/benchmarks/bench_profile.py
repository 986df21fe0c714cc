"""Benchmark: server time of the customer profile for a customer with many bookings and a typical one.

    python tests/benchmarks/bench_profile.py                                   # SQLite in a temp dir
    python tests/benchmarks/bench_profile.py --database-url postgresql://postgres@127.0.0.1:5432/bench_bookings
    python tests/benchmarks/bench_profile.py --bookings 5000 --repeat 300 --json

The database is emptied and rebuilt by the migrations (use a database kept for benchmarks). Each
page is requested in-process through the WSGI app by a signed-in client, so the figure is the
server's time (routing, queries, rendering), without network. `run()` is what `bench.py` calls.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import create_engine, event, insert, text  # noqa: E402

SERVICES = (("Cut and finish", 4500), ("Colour", 8500), ("Blow-dry", 3000), ("Manicure", 2800))
STAFF = ("Amira", "Ben", "Chloe", "Dev")
STATUSES = ("completed",) * 7 + ("cancelled", "cancelled", "no_show")
OTHERS = 5_000  # other customers, whose bookings share the table and its indexes


def reset(url: str) -> None:
    """Empty the benchmark database (PostgreSQL: its public schema; SQLite: a new file)."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def booking_rows(rng, business_id, customer_id, location_ids, count, now):
    """`count` bookings spread over the last three years and the next two months."""
    rows = []
    for _ in range(count):
        future = rng.random() < 0.03
        start = now + timedelta(
            days=rng.randint(1, 60) if future else -rng.randint(1, 1100),
            minutes=rng.randrange(0, 24 * 60, 15),
        )
        service, price = rng.choice(SERVICES)
        status = "booked" if future else rng.choice(STATUSES)
        rows.append(
            {
                "id": uuid.uuid4(),
                "business_id": business_id,
                "customer_id": customer_id,
                "location_id": rng.choice(location_ids),
                "service": service,
                "staff_name": rng.choice(STAFF),
                "starts_at": start,
                "ends_at": start + timedelta(minutes=60),
                "status": status,
                "cancelled_by": rng.choice(("customer", "business")) if status == "cancelled" else None,
                "price": price,
                "notes": "",
                "created_at": start - timedelta(days=7),
                "updated_at": start,
            }
        )
    return rows


def load(bookings: int, typical: int, others: int = OTHERS, seed: int = 7) -> dict:
    """A business with a heavy customer, a typical one and background customers; counters recounted."""
    from webapp.auth.passwords import hash_password
    from webapp.bookings.counters import recount
    from webapp.extensions import db
    from webapp.models import Booking, Business, Customer, Location, StaffUser

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    business = Business(name="Bench Salon", timezone="Europe/London", phone_region="GB", currency="GBP")
    db.session.add(business)
    db.session.flush()
    locations = [Location(business_id=business.id, name=n) for n in ("Soho", "Shoreditch")]
    db.session.add_all(locations)
    db.session.flush()
    user = StaffUser(
        business_id=business.id,
        email="bench@example.com",
        name="Bench",
        role="receptionist",
        password_hash=hash_password("bench-password"),
        current_location_id=locations[0].id,
    )
    db.session.add(user)
    location_ids = [loc.id for loc in locations]
    people = []
    for i in range(others + 2):
        people.append(
            {
                "id": uuid.uuid4(),
                "business_id": business.id,
                "first_name": ("Heavy", "Typical")[i] if i < 2 else f"Guest{i}",
                "last_name": "Customer",
                "email": f"bench{i}@example.com",
                "email_normalized": f"bench{i}@example.com",
                "created_at": now - timedelta(days=1200),
                "updated_at": now - timedelta(days=1200),
            }
        )
    db.session.execute(insert(Customer), people)
    heavy, typical_id = people[0]["id"], people[1]["id"]
    rows = booking_rows(rng, business.id, heavy, location_ids, bookings, now)
    rows += booking_rows(rng, business.id, typical_id, location_ids, typical, now)
    for person in people[2:]:
        rows += booking_rows(rng, business.id, person["id"], location_ids, rng.randint(0, 6), now)
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Booking), rows[start : start + 10_000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # as autovacuum would have done on a live database
    started = time.perf_counter()
    fixed = recount(business_id=business.id)
    db.session.commit()
    print(f"# recount: {fixed:,} customers set in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return {"user": user, "heavy": heavy, "typical": typical_id, "total_bookings": len(rows)}


def measure(client, pages: list[tuple[str, str]], repeat: int, count_queries) -> list[dict]:
    """p50 / p95 / max server time of each page over `repeat` rounds (after a warm-up). The pages take
    turns within each round, so a burst of load elsewhere on the machine hits them alike."""
    for _ in range(min(10, repeat)):
        for _, url in pages:
            assert client.get(url).status_code == 200, url
    times: dict[str, list[float]] = {url: [] for _, url in pages}
    for _ in range(repeat):
        for _, url in pages:
            started = time.perf_counter()
            response = client.get(url)
            times[url].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    results = []
    for label, url in pages:
        with count_queries() as q:
            client.get(url)
        t = sorted(times[url])
        results.append(
            {
                "page": label,
                "p50_ms": round(statistics.median(t), 1),
                "p95_ms": round(t[int(len(t) * 0.95) - 1], 1),
                "max_ms": round(t[-1], 1),
                "queries": q.count,
            }
        )
    return results


def run(
    database_url: str | None = None,
    bookings: int = 5000,
    typical: int = 12,
    repeat: int = 200,
    others: int = OTHERS,
) -> list:
    """Build the data, then time the profile pages; returns one dict per measured page."""
    from contextlib import contextmanager

    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.config import normalize_database_url
    from webapp.extensions import db

    tmp = None
    if not database_url:
        tmp = tempfile.TemporaryDirectory()
        database_url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    url = normalize_database_url(database_url)
    reset(url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-only-secret-key",
            "SESSION_COOKIE_SECURE": False,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
        }
    )
    engine_name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        data = load(bookings, typical, others)
        load_seconds = time.perf_counter() - started
        user_id = data["user"].get_id()
        engine = db.engine
    # Requests run outside that context, each in its own (as in production): nothing cached between them.
    client = app.test_client()
    with client.session_transaction() as session:
        now = int(time.time())
        session.update({"_user_id": user_id, "_fresh": True, "signed_in_at": now, "seen_at": now})

    @contextmanager
    def count_queries():
        class Counter:
            count = 0

        counter = Counter()

        def before(*args):
            counter.count += 1

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    heavy, typical_id = data["heavy"], data["typical"]
    pages = [
        (f"profile, {bookings:,} bookings", f"/customers/{heavy}"),
        (
            f"profile, {bookings:,} bookings, completed, history page 50",
            f"/customers/{heavy}?status=completed&page=50",
        ),
        (f"profile, typical customer ({typical} bookings)", f"/customers/{typical_id}"),
        (f"stats API, {bookings:,} bookings", f"/api/v1/merchant/customers/{heavy}/stats"),
    ]
    load_before = os.getloadavg()[0]
    results = [{"engine": engine_name, **r} for r in measure(client, pages, repeat, count_queries)]
    load_after = os.getloadavg()[0]
    for r in results:
        r["load_average"] = [round(load_before, 2), round(load_after, 2)]
    engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    print(
        f"# {engine_name}: {data['total_bookings']:,} bookings loaded in {load_seconds:.1f} s; "
        f"{repeat} rounds over the pages; load average {load_before:.2f} before, {load_after:.2f} after "
        f"({os.cpu_count()} CPUs)",
        file=sys.stderr,
    )
    return results


def table(results: list) -> str:
    """The results as a Markdown table (for the README's Performance section)."""
    lines = ["| engine | page | p50 ms | p95 ms | max ms | SQL queries |", "|---|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r['page']} | {r['p50_ms']} | {r['p95_ms']} "
            f"| {r['max_ms']} | {r['queries']} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of a database kept for benchmarks (emptied!)")
    parser.add_argument("--bookings", type=int, default=5000, help="bookings of the heavy customer")
    parser.add_argument("--typical", type=int, default=12, help="bookings of the typical customer")
    parser.add_argument("--others", type=int, default=OTHERS, help="other customers with 0-6 bookings each")
    parser.add_argument("--repeat", type=int, default=200, help="timed rounds (one request per page each)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args(argv)
    results = run(args.database_url, args.bookings, args.typical, args.repeat, args.others)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
