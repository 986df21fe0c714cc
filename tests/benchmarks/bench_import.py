"""Import benchmark: `flask import-customers` on a generated CSV of N rows, in a subprocess, timed.

    python tests/benchmarks/bench_import.py [--rows 100000] [--database-url URL] [--policy skip]

Makes a fresh database (SQLite in instance/, or the PostgreSQL database given, whose tables are
dropped first), a business, and a CSV of N customers as another system exports them (semicolons, a
byte-order mark, phones in five formats, dd/mm/yyyy and Excel serial birth dates, tags, notes with
line breaks, one row in 50 repeating an earlier one, one in 100 with a bad email). Then it times
`flask import-customers FILE --business … --policy …` and prints the seconds, rows per second, the
command's output and the peak RSS of the child (resource.getrusage(RUSAGE_CHILDREN)).
Targets: 100,000 rows <= 60 s; 1,000,000 rows <= 8 min.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BUSINESS = "Import Bench"
TARGETS = {100_000: 60, 1_000_000: 480}
FIRST = ["Jane", "Bob", "Zoë", "José", "Amira", "Chen", "Olga", "Liam", "Noor", "Kwame", "Sofia", "Raj"]
LAST = ["Smith", "Jones", "Müller", "O'Brien", "Novák", "García", "Khan", "Nguyen", "Kowalski", "Okafor"]
TAGS = ["VIP", "Allergy", "Regular", "New", "Student", ""]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--policy", default="skip", choices=["skip", "update", "fill"])
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def phone(n: int) -> str:
    """A UK mobile in the 07400 range, in one of five formats."""
    digits = f"{n % 1_000_000:06d}"
    national = f"0740{n // 1_000_000 % 10}{digits}"
    return [
        f"0740{n // 1_000_000 % 10} {digits}",
        f"+44 740{n // 1_000_000 % 10} {digits}",
        f"0044 (0)740{n // 1_000_000 % 10}-{digits}",
        "44" + national[1:],
        national[1:],
    ][n % 5]


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("First Name;Surname;E-mail;Mobile;DOB;Labels;Notes;Created At\r\n")
        for i in range(rows):
            n = i if i % 50 or i == 0 else i - 1  # one row in 50 repeats the one before
            first, last = FIRST[n % len(FIRST)], LAST[n // 7 % len(LAST)]
            email = f"{first.lower()}.{n}@example.com" if i % 100 != 3 else "not-an-email"
            born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2005)}"
            if i % 3 == 0:
                born = str(rng.randint(18000, 38000))  # an Excel serial date
            tags = ", ".join(t for t in {TAGS[n % 6], TAGS[n % 4]} if t)
            notes = '"Prefers mornings\r\nparks outside"' if i % 10 == 0 else ""
            out.write(f"{first};{last};{email};{phone(n)};{born};{tags};{notes};2020-01-{n % 28 + 1:02d}\r\n")


def prepare(url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from webapp import create_app
    from webapp.config import normalize_database_url
    from webapp.extensions import db
    from webapp.settings import services as settings_services

    if url.startswith("postgres"):
        engine = create_engine(normalize_database_url(url))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        settings_services.create_business(BUSINESS, timezone="Europe/London", region="GB", currency="GBP")
        db.session.commit()
        db.engine.dispose()


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    if args.database_url:
        url = args.database_url
    else:
        path = ROOT / "instance" / f"bench-import-{args.rows}.sqlite3"
        for suffix in ("", "-wal", "-shm", "-progress"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    print(f"Database: {url.split('@')[-1]}", flush=True)
    prepare(url)
    csv_path = work / "customers.csv"
    started = time.perf_counter()
    write_csv(csv_path, args.rows, args.seed)
    size = csv_path.stat().st_size
    print(f"CSV: {args.rows:,} rows, {size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-for-the-import-command"}
    flask = Path(sys.executable).with_name("flask")
    command = [str(flask), "--app", "wsgi", "import-customers", str(csv_path), "--business", BUSINESS,
               "--policy", args.policy]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(result.stdout.strip())
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        sys.exit(result.returncode)
    target = TARGETS.get(args.rows)
    verdict = "" if target is None else f" (target <= {target} s: {'met' if seconds <= target else 'MISSED'})"
    rate = args.rows / seconds
    print(f"import-customers: {seconds:.1f} s for {args.rows:,} rows, {rate:,.0f} rows/s{verdict}")
    print(f"peak RSS of the command: {peak_kb / 1024:.0f} MB")
    csv_path.unlink()


if __name__ == "__main__":
    main()
