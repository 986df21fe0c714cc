"""The profile benchmark script still runs (tiny sizes, SQLite), so `make bench` does not rot."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "benchmarks" / "bench_profile.py"


def test_bench_profile_runs_and_reports_constant_queries(app):
    if app.backend != "sqlite":
        pytest.skip("runs once: the script builds its own SQLite database")
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--bookings",
            "40",
            "--typical",
            "3",
            "--others",
            "20",
            "--repeat",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| SQLite")]
    assert len(rows) == 4, out
    profile_queries = {row[6].strip() for row in rows if "profile" in row[2]}
    assert len(profile_queries) == 1, out  # the same number of queries for 40 bookings and for 3
