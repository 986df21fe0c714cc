"""Throughput of the search fragment: requests/s with 1 and 8 concurrent clients, gunicorn on 127.0.0.1.

    python tests/load/search_rate.py [--customers 1000000] [--database-url URL] [--workers 2]
        [--clients 1,8] [--seconds 20] [--rounds 2] [--gunicorn-args "..."]

Reuses the benchmark's book, server start and sign-in (tests/benchmarks/bench.py) and its 200 fixed
queries, cycled through `/customers?q=…` with `HX-Request: true`. The load comes from `wrk` (Debian's
package; a C event loop that costs a few percent of one CPU) when it is installed, else from a small
threaded http.client loop, which itself needs a good part of one of this machine's 2 CPUs. Each run
warms first (each query once per worker), then alternates the client counts `--rounds` times, so a
noisy machine shows as spread between rounds rather than as a difference between counts.
"""

import argparse
import http.client
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks import bench  # noqa: E402


def parse_args(argv=None):
    """Command-line flags."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", default="1,8", help="comma-separated concurrent client counts")
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured run")
    parser.add_argument("--rounds", type=int, default=2, help="times each client count is run, in turns")
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn flags, e.g. '--threads 4'")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server, repeatable")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--target", choices=("fragment", "api"), default="fragment",
        help="the search fragment (signed in) or the JSON API's search (a read key)",
    )  # fmt: skip
    return parser.parse_args(argv)


def start_server(url: str, workers: int, extra: list[str], env: dict) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free loopback port, as bench.py starts it, with extra flags and settings."""
    return bench.start_gunicorn(url, workers, tuple(extra), env)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop gunicorn and its workers (its own process group)."""
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def loopback_only(base: str) -> None:
    """Refuse any target but 127.0.0.1."""
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit(f"refusing to load {base}: only 127.0.0.1 is a target")


WRK_SCRIPT = """
local paths = {%s}
local headers = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
"""


def lua(text: str) -> str:
    """`text` as a Lua string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(base: str, paths: list[str], headers: dict, clients: int, seconds: float) -> dict:
    """Requests/s and errors from wrk with `clients` connections on one thread."""
    loopback_only(base)
    quoted = ",".join(lua(p) for p in paths)
    table = ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (quoted, table))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", script.name, base],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    """The figures of wrk's report."""
    result = {"rps": 0.0, "errors": 0, "p50": None, "p99": None}
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif "Non-2xx or 3xx responses:" in line:
            result["errors"] += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] += sum(int(w.strip(",")) for w in words[2:] if w.strip(",").isdigit())
        elif words[:1] == ["50%"]:
            result["p50"] = words[1]
        elif words[:1] == ["99%"]:
            result["p99"] = words[1]
    return result


def run_python(base: str, paths: list[str], headers: dict, clients: int, seconds: float) -> dict:
    """Requests/s from `clients` threads, each a keep-alive http.client connection."""
    loopback_only(base)
    port = urlsplit(base).port
    counts, errors, deadline = [0] * clients, [0] * clients, time.perf_counter() + seconds

    def client(n: int) -> None:
        conn, i = http.client.HTTPConnection("127.0.0.1", port, timeout=30), n * 17
        while time.perf_counter() < deadline:
            conn.request("GET", paths[i % len(paths)], headers=headers)
            response = response_of(conn)
            counts[n] += 1
            errors[n] += response.status != 200
            i += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "rps": sum(counts) / (time.perf_counter() - started),
        "errors": sum(errors),
        "p50": None,
        "p99": None,
    }


def response_of(conn: http.client.HTTPConnection) -> http.client.HTTPResponse:
    """Read one whole response (so the connection can be reused)."""
    response = conn.getresponse()
    response.read()
    return response


def worker_counters(master: int) -> dict:
    """CPU seconds, page faults and bytes read from disk, summed over the gunicorn workers of `master`:
    per request they say what a request costs whatever else the machine is doing."""
    total = {"cpu": 0.0, "minflt": 0, "majflt": 0, "read_bytes": 0}
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        except OSError:
            continue
        total["minflt"] += int(fields[7])
        total["majflt"] += int(fields[9])
        total["cpu"] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        total["read_bytes"] += int(io["read_bytes"])
    total["db_cpu"], total["db_read"] = database_cpu()
    return total


def database_cpu() -> tuple[float, int]:
    """CPU seconds and bytes read from disk of every PostgreSQL process on this machine (0 on SQLite):
    its share of a request, when nothing else uses the server meanwhile."""
    seconds, read_bytes = 0.0, 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].split(")", 1)
        except (OSError, IndexError):
            continue
        if name.startswith("postgres"):
            parts = fields.split()
            seconds += (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
            try:
                io = Path(str(stat).replace("/stat", "/io")).read_text()
                read_bytes += int(io.split("read_bytes: ")[1].split()[0])
            except (OSError, IndexError):
                pass
    return seconds, read_bytes


def measured(run, master: int, *args) -> dict:
    """One run of the load, with the workers' and the load generator's cost per request."""
    before, own = worker_counters(master), os.times()
    result = run(*args)
    after, own_after = worker_counters(master), os.times()
    n = max(1, result["rps"] * args[-1])
    result["cpu_ms"] = (after["cpu"] - before["cpu"]) * 1000 / n
    result["loader_ms"] = sum(getattr(own_after, f) - getattr(own, f) for f in
                              ("user", "system", "children_user", "children_system")) * 1000 / n  # fmt: skip
    result["db_ms"] = (after["db_cpu"] - before["db_cpu"]) * 1000 / n
    result["db_read_kb"] = (after["db_read"] - before["db_read"]) / 1024 / n
    result["minflt"] = (after["minflt"] - before["minflt"]) / n
    result["majflt"] = (after["majflt"] - before["majflt"]) / n
    result["read_kb"] = (after["read_bytes"] - before["read_bytes"]) / 1024 / n
    return result


def main(argv=None) -> int:
    """Start the server, warm it, alternate the client counts, print a table; non-zero on errors."""
    args = parse_args(argv)
    url = bench.database_url(args)
    ids = bench.prepare(url, args.customers, args.seed)
    env = dict(item.split("=", 1) for item in args.env)
    queries = bench.fixed_queries(args.customers, args.seed)
    if args.target == "api":
        from tests.benchmarks.bench_api import api_key

        key = api_key(url, "read")[0]
        env.setdefault("FLASK_API_RATE_LIMIT", "1000000/minute")  # on, above the run's rate
        paths = ["/api/v1/merchant/customers?" + urlencode({"search": q}) for q in queries]
    else:
        paths = ["/customers?" + urlencode({"q": q}) for q in queries]
    loader = args.loader if args.loader != "auto" else ("wrk" if shutil.which("wrk") else "python")
    run = run_wrk if loader == "wrk" else run_python
    counts = [int(c) for c in args.clients.split(",")]
    load_before, cpu_before = os.getloadavg(), bench.cpu_check()
    proc, base = start_server(url, args.workers, shlex.split(args.gunicorn_args), env)
    rows = []
    try:
        session = bench.sign_in(base, ids["email"], ids["password"])
        if args.target == "api":
            headers = {"Authorization": f"Bearer {key}"}
        else:
            cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
            headers = {"HX-Request": "true", "Cookie": cookie}
        run(base, paths, headers, max(counts), max(5.0, len(paths) * args.workers / 300))  # warm-up
        for round_ in range(args.rounds):
            for clients in counts:
                result = measured(run, proc.pid, base, paths, headers, clients, args.seconds)
                rows.append((round_ + 1, clients, result))
    finally:
        stop_server(proc)
    load_after, cpu_after = os.getloadavg(), bench.cpu_check()
    engine = url.split(":", 1)[0].split("+")[0]
    print(
        f"{args.customers:,} customers on {engine}, the {args.target}'s search; "
        f"gunicorn -w {args.workers} {args.gunicorn_args} "
        f"{' '.join(args.env)}; load from {loader}; {args.seconds:.0f} s a run."
    )
    print(
        f"Machine: {os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after; CPU check {cpu_before:.0f} ms before, {cpu_after:.0f} ms after."
    )
    print("Per request: CPU ms of the gunicorn workers and of this load generator; the workers' page faults")
    print("(minor: mapping a page already in memory; major: waiting for the disk) and KB read from disk.")
    print(
        "| round | clients | requests/s | errors | p50 | p99 | worker CPU ms | PostgreSQL CPU ms "
        "| loader CPU ms | minor faults | major faults | disk KB | PostgreSQL disk KB |\n"
        + "|---:" * 13
        + "|"
    )
    for round_, clients, r in rows:
        print(
            f"| {round_} | {clients} | {r['rps']:.1f} | {r['errors']} | {r['p50'] or ''} | {r['p99'] or ''} "
            f"| {r['cpu_ms']:.2f} | {r['db_ms']:.2f} | {r['loader_ms']:.2f} | {r['minflt']:.1f} "
            f"| {r['majflt']:.2f} | {r['read_kb']:.1f} | {r['db_read_kb']:.1f} |"
        )
    return 1 if any(r["errors"] for _, _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
