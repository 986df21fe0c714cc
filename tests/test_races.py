"""Races with real threads against the app served over HTTP (werkzeug, threaded), on every engine.

Each race is run twice: once with a pause that holds one side between its read and its write (so the
interleaving that lost data is forced, every time), and once free-running from a barrier."""

import threading
import uuid
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import event, func, select
from werkzeug.serving import make_server

from helpers import sign_in
from webapp.bookings import services as booking_services
from webapp.bookings.counters import recount
from webapp.customers import services as customer_services
from webapp.extensions import db
from webapp.models import Booking, Customer, StaffUser

PAUSE = 1.5  # seconds one side waits for the other; after the fixes it is the lock that makes it wait


@pytest.fixture(scope="module")
def served(app):
    """The app on 127.0.0.1 in a thread that serves each request in a thread of its own."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser(app, served, make_user):
    """A signed-in HTTP session (requests) for a new user of `role`, talking to the served app."""
    sessions = []

    def make(role="receptionist", user=None):
        user = user or make_user(role)
        client = sign_in(app.test_client(), user)
        web = requests.Session()
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        web.cookies.set(cookie.key, cookie.value, domain="127.0.0.1")
        web.base, web.user, web.user_id = served, user, user.id  # ids: threads cannot load
        sessions.append(web)
        return web

    db.session.commit()
    yield make
    for web in sessions:
        web.close()


def together(*calls):
    """Run the calls in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@contextmanager
def pause_after(target, name: str, parties: int, once: bool = True, timeout: float = PAUSE):
    """Make `target.name` wait, after it ran, until `parties` threads reached it (or PAUSE passed)."""
    original = getattr(target, name)
    barrier = threading.Barrier(parties)
    seen = threading.local()

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        if not (once and getattr(seen, "done", False)):
            seen.done = True
            try:
                barrier.wait(timeout)
            except threading.BrokenBarrierError:
                pass  # the other side is held by a lock: go on alone
        return result

    setattr(target, name, paused)
    try:
        yield barrier
    finally:
        setattr(target, name, original)


def fresh(model, key):
    """The committed row."""
    db.session.expire_all()
    return db.session.get(model, key)


# --- 1. a booking made while its customer is merged away ------------------------------------------


@pytest.fixture
def pair(make_customer, make_booking):
    """A duplicate (2 bookings) and its survivor (1 booking), counters right."""
    source = make_customer(first_name="Ana", last_name="Duplicate")
    target = make_customer(first_name="Ana", last_name="Survivor")
    for days in (40, 41):
        make_booking(source, days=days)
    make_booking(target, days=42)
    recount()
    db.session.commit()
    return source, target


def book(web, customer_id, location_id: int, day: int):
    """POST the booking form for `customer_id` on July `day` 2026."""
    return web.post(
        f"{web.base}/bookings/new",
        data={
            "customer_id": str(customer_id),
            "location_id": str(location_id),
            "service": "Cut",
            "day": f"2026-07-{day:02d}",
            "start_time": "10:00",
            "end_time": "11:00",
            "price": "45.00",
        },
        allow_redirects=False,
    )


def merge(web, source_id, target_id):
    """POST the merge form: source into target."""
    return web.post(
        f"{web.base}/customers/merge?source={source_id}&target={target_id}",
        data={"action": "merge", "notes": "join"},
        allow_redirects=False,
    )


def assert_nothing_stranded(source_id, target_id, total: int) -> None:
    """Every booking is on the survivor and its counter says so; the pointer counts nothing."""
    on_source = db.session.scalar(select(func.count()).where(Booking.customer_id == source_id))
    on_target = db.session.scalar(select(func.count()).where(Booking.customer_id == target_id))
    assert (on_source, on_target) == (0, total)
    assert fresh(Customer, target_id).total_bookings == total
    assert fresh(Customer, source_id).total_bookings == 0
    assert recount() == 0


def test_bookings_read_before_a_merge_and_written_after_land_on_the_survivor(browser, pair, location):
    source_id, target_id, location_id = pair[0].id, pair[1].id, location.id
    manager, desks = browser("manager"), [browser() for _ in range(3)]
    with pause_after(booking_services, "customer_of", parties=4, timeout=10) as read:
        # three desks have read the duplicate as live; the merge runs while they wait
        threads = [
            threading.Thread(target=lambda w=w, d=d: results.append(book(w, source_id, location_id, d)))
            for w, d in zip(desks, (1, 2, 3), strict=True)
        ]
        results: list = []
        for t in threads:
            t.start()
        for _ in range(1000):
            if read.n_waiting == 3 or not any(t.is_alive() for t in threads):
                break
            threading.Event().wait(0.01)
        assert merge(manager, source_id, target_id).status_code == 303
        read.wait(PAUSE)  # release the desks
        for t in threads:
            t.join(30)
    assert sorted(r.status_code for r in results) == [303, 303, 303], [r.text[:300] for r in results]
    assert_nothing_stranded(source_id, target_id, 6)


def test_merge_and_bookings_at_the_same_moment_strand_nothing(browser, make_customer, make_booking, location):
    manager, desks = browser("manager"), [browser() for _ in range(3)]
    location_id = location.id
    for _ in range(3):
        source = make_customer(first_name="Bo", email=f"{uuid.uuid4().hex[:8]}@example.com")
        target = make_customer(first_name="Bo", email=f"{uuid.uuid4().hex[:8]}@example.com")
        make_booking(target, days=50)
        recount()
        db.session.commit()
        source_id, target_id = source.id, target.id
        results = together(
            lambda s=source_id, t=target_id: merge(manager, s, t),
            *(
                lambda w=w, d=d, s=source_id: book(w, s, location_id, d)
                for w, d in zip(desks, (4, 5, 6), strict=True)
            ),
        )
        assert [r.status_code for r in results] == [303] * 4, [r.text[:300] for r in results]
        assert_nothing_stranded(source_id, target_id, 4)


def test_a_booking_of_a_merged_away_customer_books_the_survivor(browser, pair, location):
    source, target = pair
    merge(browser("manager"), source.id, target.id)
    desk = browser()
    r = book(desk, source.id, location.id, 7)
    assert r.status_code == 303
    page = desk.get(f"{desk.base}{r.headers['Location']}").text
    assert "Ana Duplicate was merged into Ana Survivor; the booking is theirs." in page
    assert_nothing_stranded(source.id, target.id, 4)


def test_recount_moves_bookings_stranded_on_merged_customers(pair, make_customer, make_booking):
    from webapp.bookings.counters import rehome_stranded

    source, target = pair
    older = make_customer(first_name="Ana", last_name="Older")
    make_booking(older, days=43)
    # older was merged into source, then source into target (a chain); rows left behind on both
    older.merged_into_id, source.merged_into_id = source.id, target.id
    db.session.commit()
    assert rehome_stranded() == 3
    assert recount() == 2  # the survivor's counter, and the source's counter of the pointer
    db.session.commit()
    assert_nothing_stranded(source.id, target.id, 4)
    assert fresh(Customer, older.id).total_bookings == 0


# --- 2. two owners demoting each other ------------------------------------------------------------


@contextmanager
def pause_after_statement(app, words: tuple[str, ...], parties: int):
    """Hold each thread that ran a statement containing all `words` until `parties` threads did."""
    barrier = threading.Barrier(parties)
    engine = db.engine

    def after(conn, cursor, statement, *_):
        text = statement.lower()
        if all(w in text for w in words) and threading.current_thread() is not threading.main_thread():
            try:
                barrier.wait(PAUSE)
            except threading.BrokenBarrierError:
                pass

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield barrier
    finally:
        event.remove(engine, "after_cursor_execute", after)


def demote(web, other_id: int):
    """POST the staff row: `other` becomes a manager."""
    return web.post(
        f"{web.base}/settings/staff/{other_id}",
        data={"role": "manager", "active": "y"},
        allow_redirects=False,
    )


def owners(business_id) -> int:
    """Active owners left."""
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(
            StaffUser.business_id == business_id, StaffUser.role == "owner", StaffUser.active
        )
    )


@pytest.mark.parametrize("forced", [True, False], ids=["paused", "free"])
def test_two_owners_demoting_each_other_leave_one_owner(app, browser, business, forced):
    business_id = business.id
    for _ in range(1 if forced else 3):
        a, b = browser("owner"), browser("owner")
        if forced:
            with pause_after_statement(app, ("count(", "staff_user", "role"), parties=2):
                together(lambda a=a, b=b: demote(a, b.user_id), lambda a=a, b=b: demote(b, a.user_id))
        else:
            together(lambda a=a, b=b: demote(a, b.user_id), lambda a=a, b=b: demote(b, a.user_id))
        assert owners(business_id) >= 1
        db.session.execute(db.update(StaffUser).values(role="manager"))  # next round: two new owners
        db.session.commit()


# --- 3. the same customer created twice at the same moment ----------------------------------------


def add_customer(web, email: str):
    """POST the new-customer form (each post its own form token)."""
    return web.post(
        f"{web.base}/customers/new",
        data={
            "first_name": "Cleo",
            "last_name": "Twice",
            "email": email,
            "phone": "",
            "source": "phone",
            "form_token": uuid.uuid4().hex,
            "allow_similar": "1",
        },
        allow_redirects=False,
    )


@pytest.mark.parametrize("forced", [True, False], ids=["paused", "free"])
def test_the_same_customer_created_twice_at_once_is_refused_by_name(browser, business, forced):
    a, b = browser(), browser()
    for round_ in range(1 if forced else 3):
        email = f"cleo{round_}-{uuid.uuid4().hex[:6]}@example.com"
        if forced:
            with pause_after(customer_services, "find_contact_owner", parties=2):
                results = together(lambda e=email: add_customer(a, e), lambda e=email: add_customer(b, e))
        else:
            results = together(lambda e=email: add_customer(a, e), lambda e=email: add_customer(b, e))
        assert sorted(r.status_code for r in results) == [303, 422], [r.text[:300] for r in results]
        refused = next(r for r in results if r.status_code == 422)
        first = db.session.scalar(select(Customer.id).where(Customer.email_normalized == email))
        assert f'<a href="/customers/{first}">Cleo Twice</a> already has this email' in refused.text
        assert db.session.scalar(select(func.count()).where(Customer.email_normalized == email)) == 1


def test_flask_recount_reports_bookings_stranded_on_merged_customers(app, pair):
    source, target = pair
    source.merged_into_id = target.id  # as a merge racing a booking left it
    db.session.commit()
    out = app.test_cli_runner().invoke(args=["recount"]).output
    assert "Moved 2 bookings left on merged-away customers to the survivors." in out
    assert "Fixed the counters of 2 customers" in out
    assert_nothing_stranded(source.id, target.id, 3)
    out = app.test_cli_runner().invoke(args=["recount"]).output
    assert "Moved" not in out and "All counters were already right" in out


def test_the_lock_helpers_reread_the_committed_row(app, pair):
    from webapp.models.locks import lock_customer, lock_customers

    source, target = pair
    with db.engine.begin() as other:  # another connection changes the row behind our copy's back
        other.execute(db.update(Customer).where(Customer.id == source.id).values(notes="changed"))
    assert lock_customer(source.id).notes == "changed" and source.notes == "changed"
    assert [c.id for c in lock_customers(target.id, source.id)] == sorted([source.id, target.id])
    assert lock_customer(uuid.uuid4()) is None
    db.session.rollback()
