"""PUT /customers/transfer: everything of the source moves to the target by the merge service (undoable);
access, another business, bad input."""

import uuid

import pytest
from sqlalchemy import select

from api_support import ACCESS_LEVELS, BASE, is_problem, key_headers
from webapp.extensions import db
from webapp.merge.undo import undo_merge
from webapp.models import AuditEvent, Booking, Customer

URL = f"{BASE}/customers/transfer"


@pytest.fixture
def pair(make_customer, make_booking):
    source, target = make_customer(first_name="Dup"), make_customer(first_name="Main")
    make_booking(source, days=-3, status="completed")
    make_booking(source, days=2)
    make_booking(target, days=-5, status="completed")
    from webapp.bookings.counters import recount

    recount(customer_ids=[source.id, target.id])
    db.session.commit()
    return source, target


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_access_levels(client, business, pair, access):
    source, target = pair
    r = client.put(
        URL,
        json={"source_id": str(source.id), "target_id": str(target.id)},
        headers=key_headers(business, access),
    )
    if access == "manager":
        assert r.status_code == 200, r.get_json()
    else:
        is_problem(r, 403)
        assert db.session.scalar(select(Booking.customer_id).where(Booking.customer_id == source.id))


def test_no_key_is_401(client, pair):
    source, target = pair
    is_problem(client.put(URL, json={"source_id": str(source.id), "target_id": str(target.id)}), 401)


def test_everything_moves_counters_right_and_the_merge_undoes(client, business, pair, make_user):
    source, target = pair
    r = client.put(
        URL, json={"source_id": str(source.id), "target_id": str(target.id)}, headers=key_headers(business)
    )
    body = r.get_json()
    assert r.status_code == 200 and body["moved"]["booking"] == 2
    assert body["target"]["total_bookings"] == 3 and r.headers["ETag"] == f'"{body["target"]["version"]}"'
    db.session.expire_all()
    assert db.session.get(Customer, source.id).merged_into_id == target.id
    assert db.session.get(Customer, source.id).total_bookings == 0
    event = db.session.get(AuditEvent, body["merge_event_id"])
    assert event.action == "customer.merged" and event.actor_label.endswith("manager key")
    undo_merge(event, make_user("manager"))  # the screens' undo
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Customer, source.id).merged_into_id is None
    assert db.session.get(Customer, source.id).total_bookings == 2
    assert db.session.get(Customer, target.id).total_bookings == 1


def test_another_business_id_is_404_and_nothing_moves(client, business, make_business, make_customer, pair):
    source, _ = pair
    theirs = make_customer(business_=make_business("Elsewhere"))
    h = key_headers(business)
    for body in (
        {"source_id": str(source.id), "target_id": str(theirs.id)},
        {"source_id": str(theirs.id), "target_id": str(source.id)},
    ):
        is_problem(client.put(URL, json=body, headers=h), 404)
    is_problem(
        client.put(URL, json={"source_id": str(source.id), "target_id": str(uuid.uuid4())}, headers=h), 404
    )
    db.session.expire_all()
    assert db.session.get(Customer, source.id).merged_into_id is None


@pytest.mark.parametrize(
    "body, field",
    [
        ("same", "target_id"),
        ({"source_id": "nope", "target_id": str(uuid.uuid4())}, "source_id"),
        ({"target_id": str(uuid.uuid4())}, "source_id"),
        ({"source_id": 1, "target_id": 2}, "source_id"),
        ([], "body"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, business, pair, body, field):
    source, _ = pair
    if body == "same":
        body = {"source_id": str(source.id), "target_id": str(source.id)}
    is_problem(client.put(URL, json=body, headers=key_headers(business)), 422, field)
    db.session.expire_all()
    assert db.session.get(Customer, source.id).merged_into_id is None


def test_a_merged_away_source_is_422(client, business, pair):
    source, target = pair
    h = key_headers(business)
    client.put(URL, json={"source_id": str(source.id), "target_id": str(target.id)}, headers=h)
    r = client.put(URL, json={"source_id": str(source.id), "target_id": str(target.id)}, headers=h)
    is_problem(r, 422, "source_id")


def test_a_stale_if_match_is_412(client, business, pair):
    source, target = pair
    h = {**key_headers(business), "If-Match": '"999"'}
    is_problem(
        client.put(URL, json={"source_id": str(source.id), "target_id": str(target.id)}, headers=h), 412
    )
    db.session.expire_all()
    assert db.session.get(Customer, source.id).merged_into_id is None
