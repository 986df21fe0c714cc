"""Merge then undo, over many random pairs: everything comes back as it was (a seeded random walk)."""

import random
from datetime import UTC, date, datetime, timedelta

from merge_support import dump, link
from sqlalchemy import delete

from webapp.bookings.counters import recount
from webapp.extensions import db
from webapp.merge import services, undo
from webapp.models import AuditEvent, CustomerConsent, Location, MarketingPreference

VOLATILE = ("updated_at", "version")  # a merge and its undo are edits: these move on


def stable(snapshot: dict) -> dict:
    """The dump without audit events and without the columns every edit changes."""
    return {
        table: [tuple(kv for kv in row if kv[0] not in VOLATILE) for row in rows]
        for table, rows in snapshot.items()
        if table != "audit_event"
    }


def random_customer(rng, make_customer, n, tags, locations, prefs, business):
    fields = {
        "first_name": rng.choice(["Ann", "Anne", "", "Bob"]) if n % 3 else rng.choice(["Ann", "Bob"]),
        "last_name": rng.choice(["Lee", "Li", ""]),
        "email": rng.choice([None, f"p{n}@example.com"]),
        "phone": rng.choice([None, f"+4479111{n:05d}"]),
        "date_of_birth": rng.choice([None, date(1980, 1, 1 + n % 28)]),
        "company": rng.choice(["", "Acme"]),
        "notes": rng.choice(["", "Likes tea", "Runs late"]),
        "is_dummy": rng.random() < 0.2,
    }
    if not fields["email"] and not fields["phone"]:
        fields["email"] = f"p{n}@example.com"
    customer = make_customer(**fields)
    link(
        customer, tags=rng.sample(tags, rng.randint(0, 3)), locations=rng.sample(locations, rng.randint(0, 2))
    )
    for pref in rng.sample(prefs, rng.randint(0, 2)):
        db.session.add(
            CustomerConsent(
                customer_id=customer.id,
                preference_id=pref.id,
                business_id=business.id,
                opted_in=rng.random() < 0.5,
                changed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 200)),
            )
        )
    db.session.commit()
    return customer


def test_merge_then_undo_restores_everything(business, make_customer, make_booking, make_tag, make_user):
    rng = random.Random(20261122)
    manager = make_user("manager")
    tags = [make_tag(name) for name in ("VIP", "Allergy", "Regular", "Student")]
    db.session.add_all([Location(business_id=business.id, name=n) for n in ("North", "South")])
    db.session.add_all([MarketingPreference(business_id=business.id, name=n) for n in ("Email", "SMS")])
    db.session.commit()
    locations = db.session.scalars(db.select(Location).where(Location.business_id == business.id)).all()
    prefs = db.session.scalars(db.select(MarketingPreference)).all()
    merged = 0
    for round_ in range(12):
        a = random_customer(rng, make_customer, 2 * round_, tags, locations, prefs, business)
        b = random_customer(rng, make_customer, 2 * round_ + 1, tags, locations, prefs, business)
        for c in (a, b):
            for _ in range(rng.randint(0, 4)):
                status = rng.choice(["booked", "completed", "cancelled", "no_show"])
                make_booking(
                    c,
                    days=rng.randint(-90, 30),
                    status=status,
                    cancelled_by="customer" if status == "cancelled" else None,
                )
        recount()
        db.session.commit()
        before = stable(dump(a, b))
        choices = {name: rng.choice(["source", "target"]) for name, _ in services.CHOICE_FIELDS}
        choices["notes"] = rng.choice(["join", "target", "source"])
        try:
            event = services.merge_customers(a, b, choices, manager)
        except Exception as e:  # a choice that leaves no valid customer is refused, and changes nothing
            db.session.rollback()
            assert getattr(e, "field", None) in ("first_name", "email", "notes"), e
            assert stable(dump(a, b)) == before
            continue
        db.session.commit()
        merged += 1
        assert recount() == 0, f"round {round_}: counters after merge"
        undo.undo_merge(event, manager)
        db.session.commit()
        assert recount() == 0, f"round {round_}: counters after undo"
        after = stable(dump(a, b))
        for table in before:
            for old, new in zip(before[table], after[table], strict=True):
                assert set(old) ^ set(new) == set(), (round_, table, sorted(set(old) ^ set(new)))
        db.session.execute(delete(AuditEvent))
        db.session.commit()
    assert merged >= 8, f"only {merged} of 12 random merges were valid: make the walk less strict"
