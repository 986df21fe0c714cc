"""PostgreSQL runs the shared search statements prepared, with a generic plan (webapp/search/prepared.py):
the same answers as the ordinary way, one round trip, kept across requests, and never stuck when the
server and the registry disagree. Sorted searches sort the best matches, whatever the engine."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from helpers import HX
from webapp.extensions import db
from webapp.search import ranked

QUERIES = [
    "jo",
    "jo smi",
    "smith jo",
    "zoe",
    "0412 345",
    "+61 412 345 678",
    "412345",
    "annie.jo",
    "@mail.test",
    "blue fern",
    "varez",
    "xyzzy",
    "jo&sort=-created",
    "smi&sort=name&limit=2&page=2",
]


def rows(html: str) -> list[str]:
    """The customers listed, in order (the list's row links and the picker's options)."""
    return re.findall(r"data-result(?:\s[^>]*)?>\s*(?:<strong>)?([^<]+)<", html)


def count_line(html: str) -> str:
    found = re.search(r'<p class="result-count" id="result-count">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


@pytest.fixture
def book(make_customer, make_tag):
    vip = make_tag("VIP", "gold")
    made = [
        make_customer(
            first_name="John", last_name="Smith", phone="+61412345678", email="js@ex.com", tags=[vip]
        ),
        make_customer(first_name="Joanna", last_name="Smithers", phone="+447911123456"),
        make_customer(
            first_name="José",
            last_name="Alvarez",
            email="jose.alvarez@example.org",
            last_visit_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),  # 2 March in some timezones
            total_spent=123456,
        ),
        make_customer(first_name="Zoë", last_name="Ng", company="Blue Fern Studio"),
        make_customer(first_name="Ann", last_name="Jones", email="annie.jones@mail.test"),
    ]
    made += [make_customer(first_name=f"Jo{i}", last_name="Smithson", tags=[vip]) for i in range(6)]
    return made


def on_every_pooled_connection(action) -> int:
    """Run `action(connection)` on every idle connection of the pool; how many there were."""
    db.session.commit()  # the test's own session gives its connection back too
    idle = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]
    for conn in idle:
        action(conn)
        conn.close()
    return len(idle)


def forget_everything(conn) -> None:
    from webapp.search.prepared import REGISTRY

    conn.exec_driver_sql("DEALLOCATE ALL")
    conn.connection.info.pop(REGISTRY, None)


@pytest.fixture
def postgres_only(app):
    if app.backend != "postgresql":
        pytest.skip("prepared statements with generic plans are PostgreSQL's; SQLite caches its own")


def test_prepared_and_ordinary_searches_answer_the_same(app, postgres_only, book, login_as):
    client = login_as("receptionist")
    listed = {"results": 0, "picker-results": 0}
    for q in QUERIES:
        answers = []
        for prepared in (True, False):
            app.config["SEARCH_PREPARED_STATEMENTS"] = prepared
            for path, target in (("/customers?q=", "results"), ("/picker?q=", "picker-results")):
                html = client.get(path + q, headers={**HX, "HX-Target": target}).get_data(as_text=True)
                answers.append((rows(html), count_line(html), re.findall(r'class="chip[^"]*">[^<]+<', html)))
                listed[target] += len(rows(html))
        app.config["SEARCH_PREPARED_STATEMENTS"] = True
        assert answers[:2] == answers[2:], q
    assert all(listed.values())  # both screens compared real rows, not empty pages


def test_one_round_trip_prepared_once_per_connection(app, postgres_only, book, login_as):
    client = login_as("receptionist")
    on_every_pooled_connection(forget_everything)  # as on fresh connections: nothing prepared yet
    seen = []  # (connection, statement) of every search statement

    def note(conn, cursor, statement, parameters, context, executemany):
        if "plan_cache_mode" in statement:
            seen.append((id(conn.connection.dbapi_connection), statement))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for q in ["jo", "zo", "an", "sm"] * 3:  # one shape; each request ends with a rollback
            assert rows(client.get(f"/customers?q={q}", headers=HX).get_data(as_text=True))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(seen) == 12  # one statement per search
    made = [statement for _, statement in seen if statement.startswith("PREPARE fd_")]
    assert 1 <= len(made) == len({conn for conn, _ in seen}) < 12  # once per connection
    for _, statement in seen:
        assert "EXECUTE fd_" in statement and statement.endswith("RESET plan_cache_mode")
        assert statement.startswith(("PREPARE fd_", "SET LOCAL plan_cache_mode = force_generic_plan;"))
    # Other statements keep plans made for their values.
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "auto"


def test_a_statement_the_server_lost_is_answered_and_prepared_again(app, postgres_only, book, login_as):
    client = login_as("receptionist")
    on_every_pooled_connection(forget_everything)
    expected = rows(client.get("/customers?q=jo", headers=HX).get_data(as_text=True))
    assert expected
    # Something deallocates every prepared statement behind the app's back, on every pooled connection.
    assert on_every_pooled_connection(lambda conn: conn.exec_driver_sql("DEALLOCATE ALL")) >= 1
    for _ in range(3):  # the first request notices and answers anyway; the next ones prepare again
        assert rows(client.get("/customers?q=jo", headers=HX).get_data(as_text=True)) == expected


def test_a_registry_that_forgot_a_statement_recovers(app, postgres_only, book, login_as):
    from webapp.search.prepared import REGISTRY

    client = login_as("receptionist")
    on_every_pooled_connection(forget_everything)
    expected = rows(client.get("/customers?q=jo", headers=HX).get_data(as_text=True))
    # The server still has the statements; the app forgot it made them.
    assert on_every_pooled_connection(lambda conn: conn.connection.info.pop(REGISTRY, None)) >= 1
    for _ in range(3):
        assert rows(client.get("/customers?q=jo", headers=HX).get_data(as_text=True)) == expected


def test_turned_off_it_runs_the_ordinary_way(app, postgres_only, book, login_as, count_queries):
    app.config["SEARCH_PREPARED_STATEMENTS"] = False
    try:
        with count_queries() as q:
            assert rows(login_as("receptionist").get("/customers?q=jo", headers=HX).get_data(as_text=True))
    finally:
        app.config["SEARCH_PREPARED_STATEMENTS"] = True
    assert not [s for s in q.statements if "plan_cache_mode" in s or "EXECUTE" in s]


def test_sqlite_never_prepares(app, book, login_as, count_queries):
    if app.backend != "sqlite":
        pytest.skip("the SQLite half of the rule")
    with count_queries() as q:
        assert rows(login_as("receptionist").get("/customers?q=jo", headers=HX).get_data(as_text=True))
    assert not [s for s in q.statements if "PREPARE" in s or "EXECUTE" in s]


def test_a_sorted_search_sorts_the_best_matches(business, make_customer, login_as, monkeypatch):
    """More matches than the cap: the best SEARCH_CAP + 1 by match are listed in the order asked for,
    not whichever contains-matches an index happened to return first (a newer contains-match)."""
    monkeypatch.setattr(ranked, "SEARCH_CAP", 3)
    now = datetime.now(UTC)
    # "lan" inside a name only, the newest, first in every index a contains-match reads: the old way
    # (sorting every tier's candidates) listed it first.
    make_customer(first_name="Alan", last_name="Inside", created_at=now)
    for i, first in enumerate(["Lana", "Lance", "Lane", "Lang", "Lanvin"]):
        make_customer(first_name=first, last_name="Prefix", created_at=now - timedelta(days=10 - i))
    client = login_as("receptionist")
    for page in (1, 2):
        html = client.get(f"/customers?q=lan&sort=-created&limit=2&page={page}", headers=HX).get_data(
            as_text=True
        )
        assert "3+ customers" in html
        assert rows(html) == [["Lang Prefix", "Lane Prefix"], ["Lance Prefix", "Lana Prefix"]][page - 1]
    html = client.get("/customers?q=lan&sort=-created", headers=HX).get_data(as_text=True)
    assert rows(html) == ["Lang Prefix", "Lane Prefix", "Lance Prefix", "Lana Prefix"]
