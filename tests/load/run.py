"""`make loadtest`: locust drives simulated front-desk staff against gunicorn on 127.0.0.1.

    python tests/load/run.py [--minutes 5] [--users 50] [--customers 1000000]
        [--engines postgresql,sqlite] [--database-url URL] [--workers-sqlite 2] [--workers-postgresql 4]

For each engine: reuse (or load) the benchmark's book of N demo customers (tests/benchmarks/bench.py:
SQLite at instance/bench-N.sqlite3, PostgreSQL at --database-url), add the staff accounts of the run
(load-NN@load.frontdesk.test, receptionists of the demo business; nothing about the customers changes
until the simulated staff book and edit), start gunicorn on 127.0.0.1 and run locust headless for
--minutes with --users people. Each person signs in, then in turn types a search a key at a time
through the htmx fragment (one request per key, 0.18-0.4 s apart), opens profiles, books (the form
with its CSRF token) and edits a customer (the form with its version). The bookings land 1-120 days
ahead with "(load test)" in the service; the edits change the notes of the run's own customers.

Prints, per action, p50 / p95 as locust saw them and as the app timed itself (Server-Timing), requests/s
and failures; exits non-zero on any failure.

Workers: gunicorn's sync workers handle one request each at a time. On this 2-CPU machine the default
is 2 over SQLite and 4 over PostgreSQL. Over SQLite a request never waits for another process (WAL:
readers do not block; with the pages in memory a search is all CPU, about 9-10 ms of a worker's CPU
here, the same with 1 client or 8), so one worker per CPU keeps both busy and more only queue for the
same CPUs: at 8 clients 2 workers gave 185-212 requests/s, 4 gave 162-173 (A/B/A, same minutes). Over
PostgreSQL each request waits on a few round trips to the server, during which its worker's CPU is
free for another: 4 workers gave 178-202 requests/s, 2 gave 160-162. Writes over SQLite take the one
write lock in turn (busy timeout 15 s); at this mix (about 1 write in 20 requests) that is not the
limit. Raw runs: docs/loadtest-runs.txt.
"""

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks import bench  # noqa: E402
from tests.load import search_rate  # noqa: E402

PASSWORD = "front-desk load test, not a real person"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
TARGETS = {  # action -> p95 ms of the app's own time (README "Performance")
    "search keystroke": 15,
    "profile": 30,
    "booking form": 30,
    "edit form": 30,
    "book": 50,
    "edit save": 50,
    "sign in": 1000,
}


def parse_args(argv=None):
    """Command-line flags."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--minutes", type=float, default=5, help="length of each engine's run (default 5)")
    parser.add_argument("--users", type=int, default=50, help="simulated staff (default 50)")
    parser.add_argument(
        "--customers", type=int, default=1_000_000, help="size of the book (default 1,000,000)"
    )
    parser.add_argument("--engines", default="postgresql,sqlite", help="which to run, in order")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES,
        help=f"the PostgreSQL book (default $BENCH_DATABASE_URL or {DEFAULT_POSTGRES})",
    )  # fmt: skip
    parser.add_argument("--sqlite-url", help="the SQLite book (default: bench.py's instance/bench-N.sqlite3)")
    parser.add_argument(
        "--workers-sqlite", type=int, default=2, help="gunicorn workers over SQLite (default 2)"
    )
    parser.add_argument(
        "--workers-postgresql", type=int, default=4, help="gunicorn workers over PostgreSQL (4)"
    )
    parser.add_argument("--spawn-rate", type=float, default=5, help="people starting per second (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def staff_and_customers(url: str, users: int, seed: int) -> dict:
    """The run's staff accounts (created once, then reused) and a sample of bookable, editable customers."""
    from sqlalchemy import select

    from webapp import create_app
    from webapp.config import normalize_database_url
    from webapp.demo import DEMO_BUSINESS
    from webapp.extensions import db
    from webapp.models import Business, Customer, StaffUser
    from webapp.settings import services

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": "loadtest"})
    with app.app_context():
        business = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS))
        accounts = [f"load-{n:02d}@load.frontdesk.test" for n in range(users)]
        have = set(db.session.scalars(select(StaffUser.email).where(StaffUser.email.in_(accounts))))
        for email in accounts:
            if email not in have:
                services.create_staff(
                    business, email=email, name=f"Desk {email[5:7]}", role="receptionist",
                    password=PASSWORD, actor=None, must_change=False,
                )  # fmt: skip
        db.session.commit()
        customers = sample_customers(db, Customer, business, users * 40, seed)
        db.engine.dispose()
    return {"accounts": accounts, "password": PASSWORD, "customers": customers}


def sample_customers(db, Customer, business, count: int, seed: int) -> list[str]:
    """`count` live customers spread over the book (from random points of the id order): not merged,
    anonymized, blacklisted or placeholders, and with a phone the current metadata still accepts (the
    edit form sends it back; issue 16's finding 12)."""
    from sqlalchemy import select

    from webapp.phones import e164_or_none

    rng, out = random.Random(seed), []
    while len(out) < count:
        rows = db.session.execute(
            select(Customer.id, Customer.phone)
            .where(
                Customer.business_id == business.id,
                Customer.id >= uuid.UUID(int=rng.getrandbits(128)),
                Customer.merged_into_id.is_(None),
                Customer.anonymized_at.is_(None),
                Customer.blacklisted_at.is_(None),
                Customer.is_dummy.is_(False),
            )
            .order_by(Customer.id)
            .limit(10)
        ).all()
        out += [str(cid) for cid, phone in rows if not phone or e164_or_none(phone, "GB")]
    return sorted(set(out))[:count]


def run_locust(base: str, plan: dict, args, csv_prefix: str) -> int:
    """Headless locust for --minutes against `base`; its exit code (1 when any request failed)."""
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit(f"refusing to load {base}: only 127.0.0.1 is a target")
    plan_file = csv_prefix + "-plan.json"
    Path(plan_file).write_text(__import__("json").dumps(plan))
    seconds = max(10, int(args.minutes * 60))
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "tests" / "load" / "locustfile.py"),
        "--headless", "--host", base, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{seconds}s", "--stop-timeout", "10", "--csv", csv_prefix, "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "1",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "LOADTEST_PLAN": plan_file}, timeout=seconds + 120,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    failures = [line for line in done.stdout.splitlines() if "Error" in line or "Traceback" in line]
    for line in failures[:20]:
        print("  locust:", line)
    return done.returncode


def report(csv_prefix: str, minutes: float) -> tuple[list[str], int]:
    """Markdown rows (action, requests, failures, requests/s, p50 / p95 seen by locust, p50 / p95 of
    the app's own time) from locust's CSV, and the number of failures."""
    rows = list(csv.DictReader(open(csv_prefix + "_stats.csv")))
    server = {r["Name"]: r for r in rows if r["Type"] == "SERVER"}
    lines, failed = [], 0
    for r in rows:
        if r["Type"] in ("SERVER", "") or r["Name"] == "Aggregated":
            continue
        s = server.get(r["Name"], {})
        target = TARGETS.get(r["Name"])
        verdict = ""
        if target and s:
            verdict = ("meets" if float(s["95%"]) <= target else "MISSES") + f" p95 ≤ {target}"
        failed += int(r["Failure Count"])
        lines.append(
            f"| {r['Name']} | {r['Request Count']} | {r['Failure Count']} | {float(r['Requests/s']):.1f} "
            f"| {r['50%']} / {r['95%']} | {s.get('50%', '')} / {s.get('95%', '')} | {verdict} |"
        )
    # locust's own "Aggregated" row counts the SERVER entries too: add up the requests instead.
    done = [r for r in rows if r["Type"] not in ("SERVER", "") and r["Name"] != "Aggregated"]
    count, rate = sum(int(r["Request Count"]) for r in done), sum(float(r["Requests/s"]) for r in done)
    lines.append(f"| all | {count} | {failed} | {rate:.1f} | | | |")
    failures = Path(csv_prefix + "_failures.csv")
    if failed and failures.exists():
        for r in list(csv.DictReader(failures.open()))[:20]:
            print(f"  failed: {r['Name']}: {r['Error']} ({r['Occurrences']}x)")
    return lines, failed


def run_engine(engine: str, args, workdir: str) -> int:
    """One engine's run: book, accounts, server, locust, report; the number of failures."""
    url = args.database_url if engine == "postgresql" else args.sqlite_url or bench.database_url(
        argparse.Namespace(database_url=None, customers=args.customers)
    )  # fmt: skip
    workers = args.workers_postgresql if engine == "postgresql" else args.workers_sqlite
    bench.prepare(url, args.customers, args.seed)
    plan = staff_and_customers(url, args.users, args.seed)
    plan["queries"] = bench.fixed_queries(args.customers, args.seed)
    cpu_before, load_before = bench.cpu_check(), os.getloadavg()
    proc, base = search_rate.start_server(url, workers, [], {})
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        code = run_locust(base, plan, args, os.path.join(workdir, engine))
    finally:
        search_rate.stop_server(proc)
    lines, failed = report(os.path.join(workdir, engine), args.minutes)
    print(
        f"\n{engine}: {args.customers:,} customers, gunicorn {workers} sync workers on 127.0.0.1, "
        f"{args.users} simulated staff for {args.minutes:g} min (started {started})."
    )
    print(
        f"Machine: {os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; CPU check {cpu_before:.0f} ms before, "
        f"{bench.cpu_check():.0f} ms after."
    )
    print(
        "| action | requests | failures | requests/s | locust p50 / p95 ms | server p50 / p95 ms | target |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(lines), flush=True)
    return failed or (code != 0)


def main(argv=None) -> int:
    """Run each engine in turn; non-zero when any request failed."""
    args = parse_args(argv)
    if shutil.which("locust") is None and not (Path(sys.executable).parent / "locust").exists():
        raise SystemExit("locust is not installed: pip install -e '.[test]'")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="loadtest-") as workdir:
        for engine in args.engines.split(","):
            failed += run_engine(engine.strip(), args, workdir)
    print(f"\n{'0 errors' if not failed else f'{failed} failed requests'}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
