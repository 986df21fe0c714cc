"""Fuzz the JSON API with schemathesis: the app served by gunicorn on loopback over a fresh database with
two businesses' keys; every operation of /api/v1/openapi.json checked for server errors and conformance
to the document (schemas, statuses, content types). Exits non-zero when schemathesis finds anything.

    .venv/bin/python tests/api_fuzz.py [--max-examples 20] [--max-time 150]

FUZZ_DATABASE_URL: a PostgreSQL database of the fuzz's own (EMPTIED first: never the suite's) instead of
a SQLite file in a temporary folder. TEST_DATABASE_URL is ignored on purpose.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    """Run `flask --app wsgi ARGS` and return its output's last line."""
    out = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def empty_postgres(url: str) -> None:
    """Drop everything in the fuzz's own PostgreSQL database."""
    from sqlalchemy import create_engine, text

    from webapp.config import normalize_database_url

    engine = create_engine(normalize_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def prepare(env: dict) -> tuple[str, str]:
    """Migrate, make two businesses with a few customers, and a manager key of each."""
    flask(env, "db", "upgrade")
    keys = []
    for name in ("Fuzz One", "Fuzz Two"):
        flask(env, "create-business", name)
        keys.append(flask(env, "create-api-key", "--business", name, "--name", "fuzz", "--access", "manager"))
    return keys[0], keys[1]


def wait_for(url: str, server: subprocess.Popen) -> None:
    """Wait until the server answers (or fail when it died)."""
    for _ in range(100):
        if server.poll() is not None:
            raise SystemExit("the server stopped before answering")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer")


def seed_customers(base: str, key: str, tmp: str, n: int = 4) -> str:
    """Create a few customers with the key; write a schemathesis config giving their ids as `customer_id`
    (so the per-customer operations reach their logic, not only 404); returns the config's path."""
    import json

    ids = []
    for i in range(n):
        body = json.dumps(
            {"name": f"Fuzz {i}", "email": f"fuzz{i}-{os.urandom(3).hex()}@example.com"}
        ).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/merchant/customers",
            data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            ids.append(json.load(r)["id"])
    path = Path(tmp) / f"schemathesis-{key[:12]}.toml"
    path.write_text(
        "[parameters]\n"
        f'"path.customer_id" = "{ids[0]}"\n'
        f'"body.source_id" = "{ids[1]}"\n'
        f'"body.target_id" = "{ids[2]}"\n'
        # Deleting gets a customer of its own, so the others keep theirs to the end of the run.
        "[[operations]]\n"
        'include-method = "DELETE"\n'
        'include-path = "/api/v1/merchant/customers/{customer_id}"\n'
        f'parameters = {{ "path.customer_id" = "{ids[3]}" }}\n'
    )
    return str(path)


def main() -> int:
    """Serve, fuzz with each business's key, print schemathesis's summaries; 0 only when both pass."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--max-time", type=int, default=150, help="seconds for the whole run")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="frontdesk-fuzz-")
    url = os.environ.get("FUZZ_DATABASE_URL")
    if url:
        empty_postgres(url)
    env = {
        **os.environ,
        "DATABASE_URL": url or f"sqlite:///{tmp}/fuzz.db",
        "SECRET_KEY": "fuzz-" + os.urandom(16).hex(),
        "FLASK_API_RATE_LIMIT": "1000000/minute",
        "FLASK_SESSION_COOKIE_SECURE": "false",
    }
    env.pop("TEST_DATABASE_URL", None)
    key_one, key_two = prepare(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Unlimited request lines: gunicorn's own 414 (HTML, before the app) is the deployment's front, not
    # the API's; the query models bound every value themselves.
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--limit-request-line",
            "0",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        env=env,
        cwd=ROOT,
    )
    started = time.monotonic()
    try:
        wait_for(f"{base}/healthz", server)
        failed = False
        budget = args.max_time // 2
        for label, key in (("business one", key_one), ("business two", key_two)):
            print(f"--- schemathesis, {label}'s key", flush=True)
            config = seed_customers(base, key, tmp)
            run = subprocess.run(
                [
                    str(BIN / "schemathesis"),
                    "--config-file",
                    config,
                    "run",
                    f"{base}/api/v1/openapi.json",
                    "--url",
                    base,
                    "--checks",
                    CHECKS,
                    "--max-examples",
                    str(args.max_examples),
                    "--max-time",
                    str(budget),
                    "--header",
                    f"Authorization: Bearer {key}",
                    "--generation-allow-x00",
                    "true",
                    "--seed",
                    os.environ.get("FUZZ_SEED", "1"),
                    "--no-color",
                ],
                cwd=tmp,
            )
            failed |= run.returncode != 0
        print(f"--- schemathesis: {'FAILED' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
        return 1 if failed else 0
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
