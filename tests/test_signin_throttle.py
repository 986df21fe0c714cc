"""Failed sign-ins are limited in the database (across workers), and device cookies keep the owner in."""

import os
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import PASSWORD
from webapp import create_app
from webapp.auth import accounts, throttle
from webapp.extensions import db
from webapp.models import utcnow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checked(monkeypatch):
    """Count the passwords actually checked (verify_password calls, the dummy one included)."""
    calls = {"n": 0}
    lock = threading.Lock()
    real_verify, real_dummy = accounts.verify_password, accounts.dummy_verify

    def counting(real):
        def wrapped(*args):
            with lock:
                calls["n"] += 1
            return real(*args)

        return wrapped

    monkeypatch.setattr(accounts, "verify_password", counting(real_verify))
    monkeypatch.setattr(accounts, "dummy_verify", counting(real_dummy))
    return calls


@pytest.fixture
def second_worker(app):
    """Another app instance on the same database: a second worker (its own memory, its own limiter)."""
    other = create_app({k: app.config[k] for k in CONFIG_KEYS})
    yield other
    with other.app_context():
        db.engine.dispose()


CONFIG_KEYS = (
    "TESTING",
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "WTF_CSRF_ENABLED",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_COST",
    "ARGON2_PARALLELISM",
)


def wrong(client, email="owner@example.com"):
    return client.post("/login", data={"email": email, "password": "not the password"})


def right(client, email="owner@example.com"):
    return client.post("/login", data={"email": email, "password": PASSWORD})


def test_forty_wrong_passwords_over_two_workers_check_at_most_five(app, second_worker, make_user, checked):
    make_user("owner", email="owner@example.com")
    workers = [app.test_client(), second_worker.test_client()]
    codes = [wrong(workers[i % 2]).status_code for i in range(40)]
    assert checked["n"] == 5
    assert codes[:5] == [422] * 5 and set(codes[5:]) == {429}
    assert "Too many failed sign-ins" in wrong(workers[1]).text


def test_forty_wrong_passwords_at_once_from_threads_check_at_most_five(
    app, second_worker, make_user, checked
):
    make_user("owner", email="owner@example.com")
    db.session.commit()
    apps = [app, second_worker]

    def attempt(i):
        with apps[i % 2].app_context():
            return wrong(apps[i % 2].test_client()).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(40)))
    assert checked["n"] <= 5
    assert codes.count(422) == checked["n"] and codes.count(429) == 40 - checked["n"]


def test_the_owners_browser_still_signs_in_after_a_flood(app, second_worker, make_user, checked):
    make_user("owner", email="owner@example.com")
    owner = app.test_client()
    r = right(owner)
    assert r.status_code == 303
    assert throttle.DEVICE_COOKIE in r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in r.headers["Set-Cookie"] and "Path=/login" in r.headers["Set-Cookie"]
    owner.post("/logout")
    attacker = second_worker.test_client()
    for _ in range(40):
        wrong(attacker)
    assert right(attacker).status_code == 429  # no device cookie: the account's allowance is spent
    assert right(owner).status_code == 303  # the owner's browser has its own


def test_a_device_has_its_own_limit_of_five(app, make_user, checked):
    make_user("owner", email="owner@example.com")
    owner = app.test_client()
    right(owner)
    owner.post("/logout")
    checked["n"] = 0
    codes = [wrong(owner).status_code for _ in range(7)]
    assert codes == [422] * 5 + [429] * 2 and checked["n"] == 5
    assert right(owner).status_code == 429


def test_a_device_cookie_is_bound_to_its_account(app, make_user):
    make_user("owner", email="owner@example.com")
    make_user("receptionist", email="bob@example.com")
    bob_browser = app.test_client()
    right(bob_browser, "bob@example.com")
    bob_browser.post("/logout")
    attacker = app.test_client()
    for _ in range(5):
        wrong(attacker)
    # Bob's device cookie gives no allowance on the owner's account, nor does a forged one.
    assert right(bob_browser).status_code == 429
    forged = app.test_client()
    forged.set_cookie(throttle.DEVICE_COOKIE, "eyJ1IjoxLCJuIjoieCJ9.forged.sig", path="/login")
    assert right(forged).status_code == 429


def test_successful_sign_ins_leave_no_rows(app, make_user):
    make_user("owner", email="owner@example.com")
    client = app.test_client()
    for _ in range(3):
        assert right(client).status_code == 303
        client.post("/logout")
    assert db.session.query(throttle.SignInFailure).count() == 0


def test_spraying_accounts_from_one_address_checks_at_most_sixty(app, second_worker, make_user, checked):
    make_user("owner", email="owner@example.com")
    workers = [app.test_client(), second_worker.test_client()]
    codes = [wrong(workers[i % 2], f"guess{i}@example.com").status_code for i in range(150)]
    assert checked["n"] == 60 and codes.count(429) == 90
    assert right(app.test_client()).status_code == 429  # from that address, without a device cookie


def test_old_failures_fall_out_of_the_window(app, make_user):
    from datetime import timedelta

    from sqlalchemy import update

    make_user("owner", email="owner@example.com")
    client = app.test_client()
    for _ in range(5):
        wrong(client)
    with db.engine.begin() as conn:
        conn.execute(update(throttle.SignInFailure).values(created_at=utcnow() - timedelta(minutes=6)))
    assert right(client).status_code == 303
    assert throttle.purge_older_than(timedelta(minutes=5)) == 0  # the check already purged them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not os.path.exists(ROOT / ".venv/bin/gunicorn"), reason="gunicorn not installed")
def test_served_by_two_gunicorn_workers(app, make_user, tmp_path):
    """The same through a real server of 2 workers: 40 wrong passwords, at most 5 answered 422."""
    import requests

    if app.backend != "sqlite":
        pytest.skip("served on the SQLite test database")
    make_user("owner", email="owner@example.com")
    db.session.commit()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "served-test-secret",
        "FLASK_WTF_CSRF_ENABLED": "false",
        "FLASK_SESSION_COOKIE_SECURE": "false",
        "FLASK_ARGON2_TIME_COST": "1",
        "FLASK_ARGON2_MEMORY_COST": "1024",
        "FLASK_ARGON2_PARALLELISM": "1",
    }
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        form = {"email": "owner@example.com", "password": "not the password"}
        with ThreadPoolExecutor(4) as pool:
            codes = list(
                pool.map(
                    lambda _: requests.post(base + "/login", data=form, timeout=10).status_code, range(40)
                )
            )
        assert codes.count(422) <= 5 and codes.count(422) + codes.count(429) == 40, (
            codes,
            (tmp_path / "gunicorn.log").read_text()[-2000:],
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
