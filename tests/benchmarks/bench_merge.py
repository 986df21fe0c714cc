"""Benchmark: merging a customer with 10,000 bookings (and undoing it), and /duplicates at scale.

Usage (from the project root):
    python tests/benchmarks/bench_merge.py [--customers 100000] [--postgres postgresql://…/bench_merge]

SQLite runs in a temporary file; PostgreSQL uses the database given (its public schema is dropped).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Booking, Customer, DuplicateCandidate, Location, StaffUser  # noqa: E402


def make_app(url: str):
    """The app on `url`, with a fresh schema made by the migrations."""
    if url.startswith("postgresql"):
        from webapp.config import normalize_database_url

        url = normalize_database_url(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    return app


def bench_merge(bookings: int = 10_000, rounds: int = 3) -> dict:
    """Seconds to merge (and undo) a customer with `bookings` bookings, median of `rounds`."""
    from webapp.merge import services, undo
    from webapp.settings import services as settings

    business = settings.create_business(
        f"Bench {uuid.uuid4().hex[:6]}", timezone="UTC", region="GB", currency="GBP"
    )
    manager = settings.create_staff(
        business,
        email=f"m{uuid.uuid4().hex[:6]}@bench.test",
        name="M",
        role="manager",
        password="bench-password-1",
        actor=None,
        must_change=False,
    )
    location = db.session.scalar(select(Location).where(Location.business_id == business.id))
    source = Customer(
        business_id=business.id, first_name="Source", email="s@bench.test", email_normalized="s@bench.test"
    )
    target = Customer(business_id=business.id, first_name="Target", phone="+447911123456")
    db.session.add_all([source, target])
    db.session.flush()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    db.session.execute(
        insert(Booking),
        [
            {
                "id": uuid.uuid4(),
                "business_id": business.id,
                "customer_id": source.id,
                "location_id": location.id,
                "service": "Cut",
                "staff_name": "A",
                "starts_at": start + timedelta(hours=i),
                "ends_at": start + timedelta(hours=i, minutes=45),
                "status": "completed" if i % 5 else "cancelled",
                "cancelled_by": None if i % 5 else "customer",
                "price": 4500,
                "notes": "",
                "created_at": start,
                "updated_at": start,
            }
            for i in range(bookings)
        ],
    )
    db.session.commit()
    merges, undos = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        event = services.merge_customers(source, target, {"email": "source"}, manager)
        db.session.commit()
        merges.append(time.perf_counter() - t0)
        assert db.session.scalar(select(Customer.total_bookings).where(Customer.id == target.id)) == bookings
        t0 = time.perf_counter()
        undo.undo_merge(event, manager)
        db.session.commit()
        undos.append(time.perf_counter() - t0)
        assert db.session.scalar(select(Customer.total_bookings).where(Customer.id == source.id)) == bookings
    return {"merge": statistics.median(merges), "undo": statistics.median(undos)}


def bench_duplicates(app, customers: int) -> dict:
    """Demo data, the bulk refresh, and the /duplicates page (median of 5 requests, pages 1 and 2)."""
    from helpers import sign_in
    from webapp.demo import DEMO_STAFF, load_demo
    from webapp.merge.candidates import refresh_duplicates

    t0 = time.perf_counter()
    result = load_demo(customers, 1)
    demo_s = time.perf_counter() - t0
    manager = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF[1][0]))
    t0 = time.perf_counter()
    scan = refresh_duplicates(manager.business_id)
    db.session.commit()
    refresh_s = time.perf_counter() - t0
    client = sign_in(app.test_client(), manager)
    timings = {}
    for page in (1, 2):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = client.get(f"/duplicates?page={page}")
            runs.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.status_code
        timings[page] = statistics.median(runs)
    pairs = db.session.scalar(select(func.count()).select_from(DuplicateCandidate))
    return {
        "demo": demo_s,
        "customers": result.customers,
        "refresh": refresh_s,
        "pairs": pairs,
        "scanned": scan.customers,
        "page1": timings[1],
        "page2": timings[2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", type=int, default=100_000, help="Demo customers for /duplicates (0: skip)."
    )
    parser.add_argument(
        "--postgres", default=None, help="PostgreSQL URL (e.g. …/bench_merge); SQLite always runs."
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    args = parser.parse_args()
    targets = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-merge-"))
    if args.only != "postgresql":
        targets.append(("SQLite", f"sqlite:///{scratch / 'bench.sqlite3'}"))
    if args.postgres and args.only != "sqlite":
        targets.append(("PostgreSQL", args.postgres))
    for name, url in targets:
        app = make_app(url)
        with app.app_context():
            m = bench_merge()
            print(
                f"{name}: merge of a customer with 10,000 bookings {m['merge'] * 1000:.0f} ms, "
                f"undo {m['undo'] * 1000:.0f} ms (median of 3)",
                flush=True,
            )
            if args.customers:
                d = bench_duplicates(app, args.customers)
                print(
                    f"{name}: {d['customers']:,} demo customers loaded in {d['demo']:.1f} s; "
                    f"refresh-duplicates {d['refresh']:.1f} s ({d['scanned']:,} checked, "
                    f"{d['pairs']:,} pairs); /duplicates page 1 {d['page1'] * 1000:.0f} ms, "
                    f"page 2 {d['page2'] * 1000:.0f} ms (median of 5)",
                    flush=True,
                )
            db.engine.dispose()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
