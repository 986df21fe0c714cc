"""API benchmark: the JSON API under gunicorn on 127.0.0.1, with a key, over the search benchmark's book.

    python tests/benchmarks/bench_api.py [--customers 1000000] [--database-url URL] [--workers 2]

Reuses bench.py's book (loaded when missing), server start and 200 fixed queries. Measures, as the
server's own `Server-Timing` and as the client sees it on loopback:
- `GET /api/v1/merchant/customers?search=` for the 200 queries (first as typed, then again with their
  pages cached, as bench.py does), target p50 ≤ 3 ms, p95 ≤ 8 ms;
- `GET /customers/{id}` for 200 customers spread over the book, target p95 ≤ 5 ms;
- `POST /customers` (200 new customers) and `POST /customers/upsert` (100 found by email, 100 created),
  target p95 ≤ 15 ms.
The customers it creates are removed again at the end, so runs can be repeated on the same book.
Throughput under 8 clients is `tests/load/search_rate.py --target api`.
"""

import argparse
import json
import os
import random
import signal
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks import bench  # noqa: E402

BASE = "/api/v1/merchant"
SECRET = "bench-secret-key-not-for-production"  # what bench.start_gunicorn gives the server
TARGETS = {  # scenario prefix -> (p50 ms, p95 ms) at 1,000,000 customers
    "API search": (3, 8),
    "API get one": (None, 5),
    "API create": (None, 15),
    "API upsert": (None, 15),
}
UNLIMITED = {"FLASK_API_RATE_LIMIT": "1000000/minute"}
MARK = "bench-api-"  # the email prefix of the customers this benchmark creates


def parse_args(argv=None):
    """Command-line flags."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--writes", type=int, default=200, help="creates, and upserts")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def api_key(url: str, access: str = "desk") -> tuple[str, list[str], list[str]]:
    """A new key of the demo business (the server's secret), 200 customer ids spread over the book and
    100 of their emails; customers a previous run left behind are removed first."""
    from sqlalchemy import select

    from webapp import create_app
    from webapp.api.keys import create_key
    from webapp.config import normalize_database_url
    from webapp.demo import DEMO_BUSINESS
    from webapp.extensions import db
    from webapp.models import Business, Customer

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": SECRET})
    with app.app_context():
        business = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS))
        clean_up(business.id)
        _, key = create_key(business, "bench-api", access, None)
        db.session.commit()
        rng = random.Random(20261203)
        ids, emails = [], []
        while len(ids) < 200:  # customer ids are random UUIDs: the first at or after a random one
            row = db.session.execute(
                select(Customer.id, Customer.email)
                .where(
                    Customer.business_id == business.id,
                    Customer.merged_into_id.is_(None),
                    Customer.id >= uuid.UUID(int=rng.getrandbits(128)),
                )
                .order_by(Customer.id)
                .limit(1)
            ).first()
            if row is not None and str(row.id) not in ids:
                ids.append(str(row.id))
                if row.email and len(emails) < 100:
                    emails.append(row.email)
        db.session.commit()
        db.engine.dispose()
    return key, ids, emails


def clean_up(business_id: int) -> int:
    """Remove the customers an earlier run created (with their audit events), in the caller's session."""
    from sqlalchemy import select

    from webapp.customers.services import delete_or_anonymize
    from webapp.extensions import db
    from webapp.models import Customer

    made = list(
        db.session.scalars(
            select(Customer).where(Customer.business_id == business_id, Customer.email.like(f"{MARK}%"))
        )
    )
    for customer in made:
        delete_or_anonymize(customer, None)
    db.session.commit()
    return len(made)


def timed(session, method: str, url: str, body: dict | None = None, want=(200,)) -> tuple[float, float]:
    """(server ms from Server-Timing, client ms) for one request."""
    started = time.perf_counter()
    response = session.request(method, url, json=body)
    client = (time.perf_counter() - started) * 1000
    if response.status_code not in want:
        raise SystemExit(f"{method} {url}: HTTP {response.status_code} {response.text[:300]}")
    import re

    server = float(re.search(r"dur=([\d.]+)", response.headers["Server-Timing"]).group(1))
    return server, client


def verdict(row: dict) -> str:
    """Whether a row meets its target (at 1,000,000 customers)."""
    for prefix, (p50, p95) in TARGETS.items():
        if row["name"].startswith(prefix):
            ok = (p50 is None or row["p50"] <= p50) and row["p95"] <= p95
            want = (f"p50 ≤ {p50}, " if p50 else "") + f"p95 ≤ {p95}"
            return ("meets " if ok else "MISSES ") + want
    return ""


def main(argv=None) -> None:
    """Load or reuse the book, serve it, measure each scenario, print a table, clean up."""
    import requests

    args = parse_args(argv)
    url = bench.database_url(args)
    bench.prepare(url, args.customers, args.seed)
    key, ids, emails = api_key(url)
    queries = bench.fixed_queries(args.customers, args.seed)
    load_before, cpu_before = os.getloadavg(), bench.cpu_check()
    # The per-key limit stays on (its check is part of each request's cost), raised above the run's rate.
    proc, base = bench.start_gunicorn(url, args.workers, settings=UNLIMITED)
    rows = []
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        search = [f"{base}{BASE}/customers?{urlencode({'search': q})}" for q in queries]
        for q in bench.fixed_queries(args.customers, args.seed, bench.QUERY_SEED + 1):  # warm-up
            timed(session, "GET", f"{base}{BASE}/customers?{urlencode({'search': q})}")
        for i in ids[: 20 * args.workers]:
            timed(session, "GET", f"{base}{BASE}/customers/{i}")
        rows.append(bench.summary("API search", [timed(session, "GET", u) for u in search]))
        rows.append(bench.summary("API search, pages cached", [timed(session, "GET", u) for u in search]))
        rows.append(bench.summary("API list (no query)", [timed(session, "GET", f"{base}{BASE}/customers")
                                                          for _ in range(20)]))  # fmt: skip
        rows.append(
            bench.summary("API get one", [timed(session, "GET", f"{base}{BASE}/customers/{i}") for i in ids])
        )
        run = os.urandom(3).hex()
        creates = [
            {"name": f"Bench Api{n} Person", "email": f"{MARK}{run}-{n}@example.com",
             "phone": f"+4474{n:04d}{int(run, 16) % 10000:04d}", "tags": ["VIP"]}
            for n in range(args.writes)
        ]  # fmt: skip
        rows.append(
            bench.summary(
                "API create",
                [timed(session, "POST", f"{base}{BASE}/customers", body, (201,)) for body in creates],
            )
        )
        upserts = [{"email": e, "do_not_update": True} for e in emails[: args.writes // 2]] + [
            {"name": f"Bench Upsert{n}", "email": f"{MARK}{run}-u{n}@example.com"}
            for n in range(args.writes - min(len(emails), args.writes // 2))
        ]
        rows.append(
            bench.summary(
                "API upsert (half found, half created)",
                [timed(session, "POST", f"{base}{BASE}/customers/upsert", b, (200, 201)) for b in upserts],
            )
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    load_after, cpu_after = os.getloadavg(), bench.cpu_check()
    removed = remove_created(url)
    engine = url.split(":", 1)[0].split("+")[0]
    print(f"\n{args.customers:,} customers on {engine}, gunicorn {args.workers} workers, 127.0.0.1.")
    print(
        f"Machine: {os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after; CPU check (a fixed Python loop) {cpu_before:.0f} ms before, "
        f"{cpu_after:.0f} ms after. Removed the {removed} customers this run created."
    )
    print("Server time = the app's own Server-Timing; client time = this script over loopback.\n")
    print(
        "| scenario | n | server p50 ms | server p95 ms | server max ms "
        "| client p50 ms | client p95 ms | target |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        target = verdict(r) if args.customers >= 1_000_000 else ""
        print(
            f"| {r['name']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
            f"{r['client_p50']:.1f} | {r['client_p95']:.1f} | {target} |"
        )
    print(json.dumps({r["name"]: [round(r["p50"], 2), round(r["p95"], 2)] for r in rows}))


def remove_created(url: str) -> int:
    """Remove what this run created."""
    from sqlalchemy import select

    from webapp import create_app
    from webapp.config import normalize_database_url
    from webapp.demo import DEMO_BUSINESS
    from webapp.extensions import db
    from webapp.models import Business

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": SECRET})
    with app.app_context():
        business = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS))
        removed = clean_up(business.id)
        db.engine.dispose()
    return removed


if __name__ == "__main__":
    main()
