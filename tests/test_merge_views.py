"""Duplicates and merge screens: list, dismiss, merge with choices, transfer, undo, the awkward cases."""

from datetime import date

import pytest
from sqlalchemy import select

from helpers import HX, HX_BOOSTED
from webapp.bookings.counters import recount
from webapp.extensions import db
from webapp.merge.candidates import refresh_duplicates
from webapp.models import AuditEvent, Booking, DuplicateCandidate


@pytest.fixture
def manager_client(login_as):
    return login_as("manager")


@pytest.fixture
def dupes(make_customer, make_booking, business):
    a = make_customer(
        first_name="Anna",
        last_name="Müller",
        email="anna@example.com",
        phone="+447911123456",
        date_of_birth=date(1990, 3, 4),
    )
    b = make_customer(
        first_name="Ana",
        last_name="Muller",
        email="anna.m@example.com",
        phone=None,
        date_of_birth=date(1990, 3, 4),
    )
    make_booking(a, days=-3, status="completed")
    make_booking(b, days=-5, status="completed")
    make_booking(b, days=4)
    recount()
    refresh_duplicates(business.id)
    db.session.commit()
    return a, b


@pytest.mark.parametrize("headers", [{}, HX, HX_BOOSTED])
def test_duplicates_page(manager_client, dupes, headers, count_queries):
    with count_queries() as q:
        r = manager_client.get("/duplicates", headers=headers)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Similar name (1 typo), same birth date" in html and "Anna Müller" in html and "Ana Muller" in html
    assert "Review and merge" in html
    assert ("<html" in html) == (headers != HX)
    assert q.count <= 12, q.count


def test_dismiss_pair(manager_client, dupes):
    a, b = dupes
    r = manager_client.post("/duplicates/dismiss", data={"a": str(a.id), "b": str(b.id)})
    assert r.status_code == 303
    assert db.session.scalars(select(DuplicateCandidate)).all() == []
    assert "No possible duplicates" in manager_client.get("/duplicates").get_data(as_text=True)


def test_refresh_button(manager_client, dupes):
    r = manager_client.post("/duplicates/refresh", follow_redirects=True)
    assert "Checked 2 customers: 1 possible duplicate." in r.get_data(as_text=True)


def test_merge_screen_shows_both_sides_and_preview(manager_client, dupes):
    a, b = dupes
    r = manager_client.get(f"/customers/merge?source={b.id}&target={a.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "anna.m@example.com" in html and "anna@example.com" in html
    assert "2 bookings move to Anna Müller" in html and "Transfer bookings only" in html
    r = manager_client.post(
        f"/customers/merge?source={b.id}&target={a.id}",
        data={"action": "preview", "email": "source", "notes": "join"},
        headers=HX,
    )
    html = r.get_data(as_text=True)
    assert "<html" not in html and 'id="preview"' in html
    assert "anna.m@example.com</strong>" in html


def test_merge_with_choices(manager_client, dupes):
    a, b = dupes
    r = manager_client.post(
        f"/customers/merge?source={b.id}&target={a.id}",
        data={
            "action": "merge",
            "email": "source",
            "phone": "target",
            "first_name": "target",
            "notes": "join",
            "source_version": b.version,
            "target_version": a.version,
        },
    )
    assert r.status_code == 303
    assert a.email == "anna.m@example.com" and a.phone == "+447911123456"
    assert b.merged_into_id == a.id
    assert db.session.scalar(select(db.func.count()).where(Booking.customer_id == a.id)) == 3
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.merged"))
    r = manager_client.get("/duplicates")
    assert "Undo merge" in r.get_data(as_text=True)
    r = manager_client.post(f"/customers/merge/{event.id}/undo")
    assert r.status_code == 303
    assert b.merged_into_id is None and a.email == "anna@example.com" and b.email == "anna.m@example.com"
    r = manager_client.post(f"/customers/merge/{event.id}/undo", follow_redirects=True)
    assert "already undone" in r.get_data(as_text=True)


def test_stale_screen_is_refused(manager_client, dupes):
    a, b = dupes
    r = manager_client.post(
        f"/customers/merge?source={b.id}&target={a.id}",
        data={
            "action": "merge",
            "notes": "join",
            "source_version": b.version - 1 or 99,
            "target_version": a.version,
        },
    )
    assert r.status_code == 422 and "changed by someone else" in r.get_data(as_text=True)
    assert b.merged_into_id is None


def test_transfer_only(manager_client, dupes):
    a, b = dupes
    r = manager_client.post(
        f"/customers/merge?source={b.id}&target={a.id}", data={"action": "transfer", "notes": "join"}
    )
    assert r.status_code == 303
    assert b.merged_into_id is None and b.total_bookings == 0 and a.total_bookings == 3


def test_merge_with_itself_and_merged(manager_client, dupes, make_customer):
    a, b = dupes
    r = manager_client.get(f"/customers/merge?source={a.id}&target={a.id}")
    assert "cannot be merged with itself" in r.get_data(as_text=True)
    r = manager_client.post(f"/customers/merge?source={a.id}&target={a.id}", data={"action": "merge"})
    assert r.status_code == 422
    c = make_customer()
    manager_client.post(
        f"/customers/merge?source={b.id}&target={a.id}", data={"action": "merge", "notes": "join"}
    )
    r = manager_client.get(f"/customers/merge?source={c.id}&target={b.id}")
    assert "already merged into another customer" in r.get_data(as_text=True)
    assert f"source={c.id}&amp;target={a.id}" in r.get_data(as_text=True), "offers the survivor instead"


def test_other_business_and_bad_ids_are_404(manager_client, dupes, make_customer, make_business):
    a, _ = dupes
    other = make_customer(business_=make_business("Other"))
    assert manager_client.get(f"/customers/merge?source={other.id}&target={a.id}").status_code == 404
    assert manager_client.get(f"/customers/merge?source=nope&target={a.id}").status_code == 404
    assert manager_client.get("/customers/merge").status_code == 303
    assert manager_client.post("/customers/merge/999/undo").status_code == 404


@pytest.mark.parametrize("headers", [{}, HX_BOOSTED])
def test_merge_from_one_customer_offers_candidates_and_search(manager_client, dupes, make_customer, headers):
    a, b = dupes
    make_customer(first_name="Zed", last_name="Quinn", email="zed@example.com", phone="+447911555666")
    html = manager_client.get(f"/customers/merge?source={a.id}", headers=headers).get_data(as_text=True)
    assert "Likely duplicates" in html and "Ana Muller" in html
    assert f"source={b.id}&amp;target={a.id}" in html
    for q in ("zed", "Quinn", "zed@ex", "07911 555"):
        r = manager_client.get(f"/customers/merge?source={a.id}&q={q}", headers=HX)
        assert "Zed Quinn" in r.get_data(as_text=True) and "<html" not in r.get_data(as_text=True), q
    r = manager_client.get(f"/customers/merge?source={a.id}&q=nobody", headers=HX)
    assert "Nobody else matches" in r.get_data(as_text=True)


def test_merge_from_a_merged_customer_goes_to_the_survivor(manager_client, dupes):
    a, b = dupes
    manager_client.post(
        f"/customers/merge?source={b.id}&target={a.id}", data={"action": "merge", "notes": "join"}
    )
    r = manager_client.get(f"/customers/merge?source={b.id}")
    assert r.status_code == 303 and str(a.id) in r.headers["Location"]


def test_forms_carry_csrf_tokens(csrf_app, login_as, dupes):
    from helpers import csrf_token_from

    a, b = dupes
    client = login_as("manager")
    url = f"/customers/merge?source={b.id}&target={a.id}"
    assert client.post(url, data={"action": "merge", "notes": "join"}).status_code == 400
    token = csrf_token_from(client.get(url).data)
    r = client.post(url, data={"action": "merge", "notes": "join", "csrf_token": token})
    assert r.status_code == 303 and b.merged_into_id == a.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.merged"))
    assert client.post(f"/customers/merge/{event.id}/undo").status_code == 400
    page = client.get("/duplicates").data
    r = client.post(f"/customers/merge/{event.id}/undo", data={"csrf_token": csrf_token_from(page)})
    assert r.status_code == 303 and b.merged_into_id is None
    token = csrf_token_from(client.get(f"/customers/{a.id}/blacklist").data)
    r = client.post(
        f"/customers/{a.id}/blacklist", data={"reason": "Rude", "level": "block", "csrf_token": token}
    )
    assert r.status_code == 303 and a.is_blacklisted


def test_refresh_is_left_to_the_command_for_big_books(manager_client, dupes, business):
    from webapp.models import DuplicateScan

    db.session.get(DuplicateScan, business.id).customers = 250_000
    db.session.commit()
    r = manager_client.post("/duplicates/refresh", follow_redirects=True)
    assert "runs in the background" in r.get_data(as_text=True)


def test_duplicates_before_the_first_check(manager_client):
    html = manager_client.get("/duplicates").get_data(as_text=True)
    assert "Not checked yet" in html and "Check now" in html
