"""Merging customers: what moves, the pointer left behind, counters, undo, and the awkward cases."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from merge_support import dump, link
from sqlalchemy import func, select

from webapp import signals
from webapp.bookings.counters import recount
from webapp.errors import Conflict, Invalid
from webapp.extensions import db
from webapp.merge import rows, services, undo
from webapp.models import (
    AuditEvent,
    Booking,
    Customer,
    CustomerConsent,
    CustomerContactHistory,
    DuplicateCandidate,
    Location,
    MarketingPreference,
)


def paid_for_visits(*customers) -> None:
    """Each completed booking made as a row gets the sale completing it records (spend is sales)."""
    for booking in db.session.scalars(
        select(Booking).where(
            Booking.customer_id.in_([c.id for c in customers]), Booking.status == "completed"
        )
    ).all():
        signals.booking_completed.send(booking, actor=None)
    db.session.commit()


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def pair(make_customer, make_booking, make_tag, location):
    """A duplicate (source) with bookings, tags and consents, and the record that should survive."""
    vip, allergy, regular = make_tag("VIP"), make_tag("Allergy"), make_tag("Regular")
    source = make_customer(
        first_name="Bob",
        last_name="Smith",
        email="bob@example.com",
        phone="+447911123456",
        notes="Prefers mornings",
    )
    target = make_customer(
        first_name="Robert",
        last_name="Smith",
        email="robert.smith@example.com",
        phone=None,
        notes="Allergic to latex",
        date_of_birth=date(1980, 5, 17),
    )
    link(source, tags=[vip, allergy])
    link(target, tags=[allergy, regular])
    for days, status in ((-30, "completed"), (-10, "no_show"), (5, "booked")):
        make_booking(source, days=days, status=status, price=4000)
    make_booking(target, days=-60, status="completed", price=2500)
    recount()
    paid_for_visits(source, target)
    db.session.commit()
    return source, target


def test_merge_moves_everything_and_leaves_a_pointer(pair, manager):
    source, target = pair
    source_bookings = set(db.session.scalars(select(Booking.id).where(Booking.customer_id == source.id)))
    event = services.merge_customers(source, target, {"phone": "source"}, manager)
    db.session.commit()

    assert (
        set(db.session.scalars(select(Booking.id).where(Booking.customer_id == target.id))) >= source_bookings
    )
    assert db.session.scalar(select(func.count()).where(Booking.customer_id == source.id)) == 0
    assert {t.name for t in target.tags} == {"VIP", "Allergy", "Regular"}
    assert source.tags == []
    assert target.phone == "+447911123456" and target.email == "robert.smith@example.com"
    assert target.notes == "Allergic to latex\n\nPrefers mornings"
    assert target.date_of_birth == date(1980, 5, 17)
    assert source.merged_into_id == target.id and source.merged_at is not None
    assert source.email is None and source.phone is None
    assert target.total_bookings == 4 and target.completed_bookings == 2 and target.no_shows == 1
    assert target.total_spent == 6500
    assert source.total_bookings == 0
    assert recount() == 0, "counters must equal the aggregates after a merge"
    assert sorted(event.changes["moved"]["booking"]) == sorted(str(i) for i in source_bookings)
    assert event.changes["source_before"]["email"] == "bob@example.com"
    assert event.changes["fields"]["phone"] == {"old": None, "new": "+447911123456"}
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["customer.merged", "customer.merged_away"]


def test_merge_keeps_latest_consent_and_locations(pair, manager, business, location):
    source, target = pair
    email_pref = MarketingPreference(business_id=business.id, name="Email offers")
    sms_pref = MarketingPreference(business_id=business.id, name="SMS reminders")
    other = Location(business_id=business.id, name="Shoreditch")
    db.session.add_all([email_pref, sms_pref, other])
    db.session.flush()
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    db.session.add_all(
        [
            CustomerConsent(
                customer_id=source.id,
                preference_id=email_pref.id,
                business_id=business.id,
                opted_in=False,
                changed_at=new,
            ),
            CustomerConsent(
                customer_id=target.id,
                preference_id=email_pref.id,
                business_id=business.id,
                opted_in=True,
                changed_at=old,
            ),
            CustomerConsent(
                customer_id=source.id,
                preference_id=sms_pref.id,
                business_id=business.id,
                opted_in=True,
                changed_at=old,
            ),
        ]
    )
    db.session.commit()
    link(source, locations=[other])
    link(target, locations=[location])
    before = dump(source, target)

    event = services.merge_customers(source, target, {}, manager)
    db.session.commit()
    consents = {c.preference_id: c.opted_in for c in target.consents}
    assert consents == {email_pref.id: False, sms_pref.id: True}, "the latest change per preference wins"
    assert {loc.name for loc in target.locations} == {"Main", "Shoreditch"}

    undo.undo_merge(event, manager)
    db.session.commit()
    after = dump(source, target)
    for table in ("booking", "customer_tag", "customer_location", "customer_consent"):
        assert after[table] == before[table], table


def test_undo_restores_both_customers_and_keeps_later_bookings(pair, manager, make_booking):
    source, target = pair
    fields = (
        "first_name",
        "last_name",
        "email",
        "email_normalized",
        "phone",
        "notes",
        "date_of_birth",
        "total_bookings",
        "no_shows",
        "total_spent",
        "completed_bookings",
    )
    was = {c.id: {f: getattr(c, f) for f in fields} for c in (source, target)}
    event = services.merge_customers(source, target, {"phone": "source", "email": "source"}, manager)
    db.session.commit()
    assert target.email == "bob@example.com"
    later = make_booking(target, days=9)

    result = undo.undo_merge(event, manager)
    db.session.commit()
    # Its 3 bookings, the sale of its completed one and the points that sale earned.
    assert result["moved_back"] == 5 and result["stayed"] == 0
    for c in (source, target):
        db.session.refresh(c)
    assert source.merged_into_id is None and source.merged_at is None
    now = {c.id: {f: getattr(c, f) for f in fields} for c in (source, target)}
    was[target.id]["total_bookings"] += 1  # the booking made after the merge stays with the survivor
    assert now == was
    assert db.session.get(Booking, later.id).customer_id == target.id
    assert recount() == 0, "counters must equal the aggregates after undo"
    assert {t.name for t in source.tags} == {"VIP", "Allergy"}
    assert {t.name for t in target.tags} == {"Allergy", "Regular"}
    with pytest.raises(Invalid, match="already undone"):
        undo.undo_merge(event, manager)


def test_undo_explains_a_taken_email(pair, manager, make_customer):
    source, target = pair
    event = services.merge_customers(source, target, {}, manager)
    db.session.commit()
    make_customer(first_name="Other", email="bob@example.com")
    with pytest.raises(Invalid, match=r"bob@example.com now belongs to Other Test"):
        undo.undo_merge(event, manager)


def test_undo_after_30_days_is_refused(pair, manager):
    source, target = pair
    event = services.merge_customers(source, target, {}, manager)
    event.created_at = datetime.now(UTC) - timedelta(days=31)
    db.session.commit()
    with pytest.raises(Invalid, match="30 days"):
        undo.undo_merge(event, manager)


def test_undo_keeps_survivor_fields_edited_since(pair, manager):
    source, target = pair
    event = services.merge_customers(source, target, {"phone": "source"}, manager)
    db.session.commit()
    target.first_name = "Rob"  # not chosen in the merge: restored value untouched
    target.notes = "Edited after the merge"
    db.session.commit()
    result = undo.undo_merge(event, manager)
    db.session.commit()
    assert "notes" in result["kept"] and "phone" in result["restored"]
    assert target.notes == "Edited after the merge" and target.phone is None
    assert source.phone == "+447911123456"


@pytest.mark.parametrize("case", ["itself", "merged_target", "anonymized", "other_business"])
def test_merges_that_make_no_sense_are_refused(case, pair, manager, make_customer, make_business):
    source, target = pair
    if case == "itself":
        target, match = source, "cannot be merged with itself"
    elif case == "merged_target":
        third = make_customer(first_name="Third")
        services.merge_customers(target, third, {}, manager)
        db.session.commit()
        match = "already merged into another customer"
    elif case == "anonymized":
        target.anonymized_at = datetime.now(UTC)
        db.session.commit()
        match = "anonymized"
    else:
        target = make_customer(business_=make_business("Elsewhere"), first_name="Far")
        match = "different businesses"
    before = dump(source, target)
    with pytest.raises(Invalid, match=match):
        services.merge_customers(source, target, {}, manager)
    db.session.rollback()
    assert dump(source, target) == before


def test_placeholder_merges_into_full_customer(make_customer, make_booking, manager):
    walk_in = make_customer(
        first_name="", last_name="", email=None, is_dummy=True, dummy_label="Walk-in 14:05"
    )
    make_booking(walk_in, days=-1, status="completed", price=3000)
    paid_for_visits(walk_in)
    full = make_customer(first_name="Ana", last_name="Lopez", email="ana@example.com")
    services.merge_customers(walk_in, full, {}, manager)
    db.session.commit()
    assert full.first_name == "Ana" and not full.is_dummy and full.total_spent == 3000


def test_full_customer_into_placeholder_becomes_full(make_customer, manager):
    walk_in = make_customer(first_name="", last_name="", email=None, is_dummy=True, dummy_label="Walk-in")
    full = make_customer(first_name="Ana", last_name="Lopez", email="ana@example.com")
    services.merge_customers(full, walk_in, {}, manager)
    db.session.commit()
    assert not walk_in.is_dummy and walk_in.first_name == "Ana" and walk_in.email == "ana@example.com"


def test_result_must_be_a_valid_customer(make_customer, manager):
    a = make_customer(first_name="Ana", email="ana@example.com")
    b = make_customer(first_name="", email=None, phone="+447911123457")
    with pytest.raises(Invalid, match="needs a first name"):
        services.merge_customers(a, b, {"first_name": "target"}, manager)


def test_joined_notes_over_the_limit_are_refused(make_customer, manager):
    a = make_customer(notes="a" * 600)
    b = make_customer(notes="b" * 600)
    with pytest.raises(Invalid, match="over the 1,000 limit") as e:
        services.merge_customers(a, b, {}, manager)
    assert e.value.field == "notes"
    db.session.rollback()
    services.merge_customers(a, b, {"notes": "target"}, manager)


def test_stale_version_is_refused(pair, manager):
    source, target = pair
    seen = {"source": source.version, "target": target.version}
    target.company = "Changed meanwhile"
    db.session.commit()
    with pytest.raises(Conflict, match="changed by someone else") as e:
        services.merge_customers(source, target, {}, manager, seen)
    assert e.value.current is target


def test_blacklist_carries_over_to_the_survivor(pair, manager):
    from webapp.blacklist.services import ban_evasion_matches, blacklist

    source, target = pair
    blacklist(source, manager, "Abusive to staff")
    db.session.commit()
    event = services.merge_customers(source, target, {}, manager)
    db.session.commit()
    assert target.is_blacklisted and target.blacklist_reason == "Abusive to staff"
    assert ban_evasion_matches(target.business_id, "bob@example.com", None) == [target]
    undo.undo_merge(event, manager)
    db.session.commit()
    assert not target.is_blacklisted and source.is_blacklisted
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(CustomerContactHistory)
            .where(CustomerContactHistory.why == "merged")
        )
        == 0
    )


def test_transfer_bookings_only(pair, manager):
    source, target = pair
    n = services.transfer_bookings(source, target, manager)
    db.session.commit()
    assert n == 3
    assert source.total_bookings == 0 and target.total_bookings == 4
    assert source.merged_into_id is None and source.email == "bob@example.com"
    with pytest.raises(Invalid, match="no bookings to transfer"):
        services.transfer_bookings(source, target, manager)


def test_merge_forgets_the_pair_and_undo_brings_it_back(pair, manager):
    from webapp.merge.candidates import refresh_duplicates

    source, target = pair
    source.date_of_birth = target.date_of_birth
    db.session.commit()
    refresh_duplicates(target.business_id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 1
    event = services.merge_customers(source, target, {}, manager)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0
    undo.undo_merge(event, manager)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 1


def test_failure_in_the_middle_of_a_merge_changes_nothing(pair, manager, monkeypatch):
    source, target = pair
    before = dump(source, target)
    moved = []

    def explode(*args, **kwargs):
        moved.append(db.session.scalar(select(func.count()).where(Booking.customer_id == target.id)))
        raise RuntimeError("injected failure after the bookings moved")

    monkeypatch.setattr(rows, "merge_links", explode)
    with pytest.raises(RuntimeError, match="injected"):
        services.merge_customers(source, target, {"phone": "source"}, manager)
    assert moved == [4], "the failure came after the bookings had moved"
    db.session.rollback()
    assert dump(source, target) == before


def test_failure_through_the_screen_changes_nothing(pair, login_as, monkeypatch, app):
    source, target = pair
    client = login_as("manager")
    before = dump(source, target)
    monkeypatch.setattr(services, "_apply_values", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    app.config["SHOW_ERROR_PAGES"] = True
    try:
        r = client.post(
            f"/customers/merge?source={source.id}&target={target.id}",
            data={"action": "merge", "notes": "join"},
        )
    finally:
        app.config["SHOW_ERROR_PAGES"] = False
    assert r.status_code == 500
    assert dump(source, target) == before


def test_merging_10000_bookings_is_set_based(make_customer, manager, business, location, count_queries):
    source, target = make_customer(), make_customer()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.execute(
        Booking.__table__.insert(),
        [
            {
                "id": __import__("uuid").uuid4(),
                "business_id": business.id,
                "customer_id": source.id,
                "location_id": location.id,
                "service": "Cut",
                "staff_name": "A",
                "starts_at": start + timedelta(hours=i),
                "ends_at": start + timedelta(hours=i, minutes=30),
                "status": "completed",
                "price": 100,
                "notes": "",
                "created_at": start,
                "updated_at": start,
            }
            for i in range(10_000)
        ],
    )
    db.session.commit()
    with count_queries() as q:
        event = services.merge_customers(source, target, {}, manager)
        db.session.commit()
    assert len(event.changes["moved"]["booking"]) == 10_000
    assert q.count < 60, q.count
    assert target.total_bookings == 10_000 and target.completed_bookings == 10_000
    with count_queries() as q:
        undo.undo_merge(event, manager)
        db.session.commit()
    assert source.total_bookings == 10_000 and target.total_bookings == 0
    assert q.count < 120, q.count


def test_concurrent_merges_have_one_winner(app, pair, manager):
    if app.backend != "postgresql":
        pytest.skip("SQLite serializes writers at the database level; row locks are a PostgreSQL matter")
    source, target = pair
    source_id, target_id, manager_id = source.id, target.id, manager.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt():
        from webapp.models import StaffUser

        with app.app_context():
            s, t = db.session.get(Customer, source_id), db.session.get(Customer, target_id)
            actor = db.session.get(StaffUser, manager_id)
            barrier.wait()
            try:
                services.merge_customers(s, t, {}, actor)
                db.session.commit()
                outcomes.append("merged")
            except Invalid as e:
                db.session.rollback()
                outcomes.append(e.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(outcomes)[-1] == "merged" and outcomes.count("merged") == 1, outcomes
    loser = next(o for o in outcomes if o != "merged")
    assert "already merged into another customer" in loser
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Booking.customer_id == target_id)) == 4
    events = db.session.scalar(select(func.count()).where(AuditEvent.action == "customer.merged"))
    assert events == 1
    assert recount() == 0


def test_api_keys_can_blacklist_and_transfer(pair):
    from webapp.blacklist.services import blacklist, unblacklist

    source, target = pair
    before = db.session.scalar(select(func.max(AuditEvent.id))) or 0  # the fixture's sales
    blacklist(target, None, "Chargeback", actor_label="API key: website")
    unblacklist(target, None, "Resolved", actor_label="API key: website")
    assert (
        services.transfer_bookings(
            source, target, None, actor_label="API key: pos", business_id=target.business_id
        )
        == 3
    )
    db.session.commit()
    labels = db.session.scalars(
        select(AuditEvent.actor_label).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()
    assert labels == ["API key: website"] * 2 + ["API key: pos"] * 2
