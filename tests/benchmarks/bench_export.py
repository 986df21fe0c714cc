"""Export benchmark: time `flask export-customers` over an existing book and report seconds and peak RSS.

    python tests/benchmarks/bench_export.py [--database-url URL] [--business NAME] [--out FILE]

Default book: instance/bench-1000000.sqlite3 when it exists, else a 100,000-customer demo book made once
in /tmp with `flask demo-data`. The command runs as its own process (the same code path as the
`/customers/export.csv` route); its resident memory is sampled every 0.2 s, so a flat line is visible
(RSS at 10 %, 50 % and 90 % of the run), and the peak comes from the kernel (wait4). Target: 1,000,000
customers in <= 60 s with flat memory. The export records one audit event in the book it reads.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
DEFAULT_BOOK = ROOT / "instance" / "bench-1000000.sqlite3"
FALLBACK_BOOK = Path("/tmp/bench-export-100000.sqlite3")
TARGET_SECONDS_PER_MILLION = 60


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="Default: the 1,000,000 book if present.")
    parser.add_argument("--business", default=None, help="Default: the book's first business.")
    parser.add_argument("--out", default=None, help="Keep the CSV here (default: a temporary file).")
    return parser.parse_args()


def environment(url: str) -> dict:
    """The command's environment: the book, and a secret key (the app refuses to start without one)."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-export-only"),
    }


def book_url(args) -> str:
    """The database to read: the one given, the 1,000,000 book, or a 100,000 book made in /tmp."""
    if args.database_url:
        return args.database_url
    if DEFAULT_BOOK.exists():
        return f"sqlite:///{DEFAULT_BOOK}"
    url = f"sqlite:///{FALLBACK_BOOK}"
    if not FALLBACK_BOOK.exists():
        print(f"{DEFAULT_BOOK} not found: making a 100,000-customer book in {FALLBACK_BOOK} …", flush=True)
        env = environment(url)
        subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*FLASK, "demo-data", "--customers", "100000"], cwd=ROOT, env=env, check=True)
    return url


def first_business(url: str) -> str:
    """The name of the book's first business."""
    code = (
        "import sys; from sqlalchemy import create_engine, text; "
        "from webapp.config import normalize_database_url as n; "
        "e = create_engine(n(sys.argv[1])); "
        "print(e.connect().execute(text('SELECT name FROM business ORDER BY id LIMIT 1')).scalar())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def rss_kib(pid: int) -> tuple[int, int] | None:
    """The process's resident set size now and its anonymous part (the heap), in KiB; None once gone.
    The rest is file pages: SQLite reads the book through a memory map (PRAGMA mmap_size), so pages of
    the database file it touched count as resident, shared with the page cache and reclaimable."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]), int(fields["RssAnon"].split()[0])
    except (FileNotFoundError, ProcessLookupError, KeyError, ValueError):
        return None


def run(url: str, business: str, target: Path) -> dict:
    """Run the export once: its seconds, peak RSS (KiB, from wait4), RSS samples and stderr."""
    errors = tempfile.TemporaryFile(mode="w+")
    started = time.perf_counter()
    process = subprocess.Popen(
        [*FLASK, "export-customers", "--business", business, str(target)],
        cwd=ROOT,
        env=environment(url),
        stderr=errors,
    )
    samples = []
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        kib = rss_kib(process.pid)
        if kib:
            samples.append((time.perf_counter() - started, *kib))
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors.seek(0)
    return {
        "seconds": seconds,
        "status": process.returncode,
        "peak_kib": usage.ru_maxrss,
        "samples": samples,
        "stderr": errors.read().strip(),
    }


def main() -> int:
    args = parse_args()
    url = book_url(args)
    business = args.business or first_business(url)
    keep = args.out is not None
    target = Path(args.out) if keep else Path(tempfile.mkdtemp(prefix="bench-export-")) / "customers.csv"
    result = run(url, business, target)
    size = target.stat().st_size if target.exists() else 0
    if not keep and target.exists():
        target.unlink()
        target.parent.rmdir()
    print(f"book: {url}  business: {business!r}")
    print(f"flask export-customers: exit {result['status']}, {result['stderr'].splitlines()[-1:]}")
    print(f"time: {result['seconds']:.1f} s   CSV: {size / 1e6:,.0f} MB")
    print(f"peak RSS: {result['peak_kib'] / 1024:,.0f} MiB")
    samples = result["samples"]
    if samples:
        marks = [samples[min(len(samples) - 1, int(len(samples) * p))] for p in (0.1, 0.5, 0.9)]
        print(
            "RSS (of it anonymous) over the run: "
            + ", ".join(f"{t:.0f} s {kib / 1024:,.0f} ({anon / 1024:,.0f}) MiB" for t, kib, anon in marks)
        )
        print(f"peak anonymous RSS sampled: {max(a for _, _, a in samples) / 1024:,.0f} MiB")
    rows = next(
        (int(w.replace(",", "")) for w in result["stderr"].split() if w.replace(",", "").isdigit()), 0
    )
    if rows:
        per_million = result["seconds"] * 1_000_000 / rows
        verdict = "meets" if per_million <= TARGET_SECONDS_PER_MILLION else "misses"
        print(
            f"{rows:,} rows: {per_million:.1f} s per million"
            f" ({verdict} the {TARGET_SECONDS_PER_MILLION} s target)"
        )
    return result["status"]


if __name__ == "__main__":
    sys.exit(main())
