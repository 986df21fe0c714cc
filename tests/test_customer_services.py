"""Customer rules, tested at the service level (one place for each rule)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp import signals
from webapp.customers import services
from webapp.customers.fields import names_similar
from webapp.edge import owned
from webapp.errors import Conflict, ContactTaken, Invalid, PossibleDuplicate
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Customer, CustomerConsent, MarketingPreference
from webapp.text import fold


def data(**over):
    base = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "07911 123456"}
    base.update(over)
    return base


def customers_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def events(action=None):
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return db.session.scalars(stmt).all()


@pytest.fixture
def actor(make_user):
    return make_user("receptionist")


@pytest.fixture
def pref(business):
    p = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(p)
    db.session.commit()
    return p


# --- normalizing ---------------------------------------------------------------------------------


def test_normalize_email():
    assert services.normalize_email("  Ada@Example.COM ") == "ada@example.com"
    assert services.normalize_email("   ") is None
    assert services.normalize_email(None) is None


@pytest.mark.parametrize("raw", ["07911 123456", "+44 7911 123456", "0044 7911 123456", "(07911) 123-456"])
def test_normalize_phone_same_number_in_any_format(raw):
    assert services.normalize_phone(raw, "GB") == "+447911123456"


def test_normalize_phone_other_region_and_blank():
    assert services.normalize_phone("0412 345 678", "AU") == "+61412345678"
    assert services.normalize_phone("  ", "GB") is None


@pytest.mark.parametrize("raw", ["abc", "123", "07911 12345", "+44 7911 1234567890"])
def test_normalize_phone_rejects_invalid(raw):
    with pytest.raises(Invalid) as e:
        services.normalize_phone(raw, "GB")
    assert e.value.field == "phone"


def test_normalize_phone_rejects_over_32_chars():
    with pytest.raises(Invalid, match="at most 32"):
        services.normalize_phone("0" * 33, "GB")


def test_fold_and_similar_names():
    assert fold("  Zoë  O'BRIEN ") == "zoe obrien"
    assert fold("Nguyễn") == "nguyen"
    assert names_similar("José Pérez", "jose perez")
    assert names_similar("Jonathon Smith", "Jonathan Smith")
    assert not names_similar("Ada Lovelace", "Grace Hopper")


# --- create --------------------------------------------------------------------------------------


def test_create_normalizes_and_audits(business, actor):
    c = services.create_customer(business, actor, data(email=" Ada@Example.COM "))
    db.session.commit()
    assert c.phone == "+447911123456"
    assert c.email == "Ada@Example.COM" and c.email_normalized == "ada@example.com"
    (ev,) = events()
    assert ev.action == "customer.created" and ev.actor_id == actor.id and ev.customer_id == c.id
    assert ev.changes["first_name"] == "Ada" and ev.created_at is not None


def test_full_customer_needs_first_name(business, actor):
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(first_name="  "))
    assert e.value.field == "first_name"
    assert customers_count() == 0


def test_full_customer_needs_email_or_phone(business, actor):
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(email="", phone=""))
    assert set(e.value.problems) == {"email", "phone"} and not isinstance(e.value, ContactTaken)
    services.create_customer(business, actor, data(email="", phone="07911 123456"))
    services.create_customer(business, actor, data(first_name="Bo", email="bo@example.com", phone=None))
    assert customers_count() == 2


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "ada@@example.com", "ada example@x.com"])
def test_email_must_be_valid(business, actor, bad):
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(email=bad))
    assert e.value.field == "email"


def test_email_unique_case_insensitively_and_names_owner(business, actor):
    first = services.create_customer(business, actor, data())
    with pytest.raises(ContactTaken) as e:
        services.create_customer(business, actor, data(first_name="Other", email="ADA@example.com", phone=""))
    assert e.value.field == "email" and e.value.owner is first and e.value.owners == {"email": first}
    assert "Ada Lovelace" in e.value.message


def test_phone_unique_in_any_format(business, actor):
    first = services.create_customer(business, actor, data())
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(first_name="Bob", email="", phone="+44 7911 123456"))
    assert e.value.field == "phone" and e.value.owner is first


def test_uniqueness_is_per_business(business, make_business, actor, make_user):
    other = make_business("Other Salon")
    services.create_customer(business, actor, data())
    c = services.create_customer(other, make_user("receptionist", other), data())
    assert c.business_id == other.id


def test_birth_date_rules(business, actor):
    with pytest.raises(Invalid, match="future") as e:
        services.create_customer(business, actor, data(date_of_birth=date(2090, 1, 1)))
    assert e.value.field == "date_of_birth"
    with pytest.raises(Invalid, match="1900"):
        services.create_customer(business, actor, data(date_of_birth=date(1899, 12, 31)))
    c = services.create_customer(business, actor, data(date_of_birth=date(1990, 2, 28)))
    assert c.date_of_birth == date(1990, 2, 28)
    assert customers_count() == 1


@pytest.mark.parametrize(
    "field,length", [("first_name", 256), ("last_name", 256), ("company", 256), ("notes", 1001)]
)
def test_length_limits(business, actor, field, length):
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(**{field: "x" * length}))
    assert e.value.field == field
    assert customers_count() == 0
    services.create_customer(business, actor, data(**{field: "x" * (length - 1)}))


def test_long_email_rejected(business, actor):
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(email="a" * 250 + "@example.com"))
    assert e.value.field == "email"


def test_unknown_tag_and_other_business_location_rejected(business, make_business, actor, make_tag):
    from webapp.models import Location

    other = make_business("Elsewhere")
    loc = db.session.scalar(select(Location).where(Location.business_id == other.id))
    foreign_tag = make_tag("Theirs", business_=other)
    for bad in ({"tag_ids": [999999]}, {"tag_ids": [foreign_tag.id]}, {"tag_ids": ["x"]}):
        with pytest.raises(Invalid) as e:
            services.create_customer(business, actor, data(**bad))
        assert e.value.field == "tag_ids"
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(location_ids=[loc.id]))
    assert e.value.field == "location_ids"
    assert customers_count() == 0


def test_create_with_tags_locations_consents(business, actor, make_tag, location, pref):
    vip = make_tag(name="VIP")
    c = services.create_customer(
        business,
        actor,
        data(tag_ids=[vip.id], location_ids=[location.id], consents={pref.id: True}, source="referral"),
    )
    db.session.commit()
    assert [t.name for t in c.tags] == ["VIP"]
    assert [loc.id for loc in c.locations] == [location.id]
    (consent,) = c.consents
    assert consent.opted_in is True and consent.changed_by_id == actor.id and consent.changed_at
    assert c.source == "referral"
    assert [e.action for e in events()] == ["customer.created", "customer.consents_changed"]


def test_unknown_source_rejected(business, actor):
    with pytest.raises(Invalid) as e:
        services.create_customer(business, actor, data(source="carrier pigeon"))
    assert e.value.field == "source"


def test_unicode_names_round_trip(business, actor):
    names = ["José", "Zoë", "O'Brien", "李小龙", "Nguyễn"]
    for i, name in enumerate(names):
        services.create_customer(business, actor, data(first_name=name, email=f"u{i}@example.com", phone=""))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(select(Customer.first_name)).all()
    assert sorted(stored) == sorted(names)


# --- possible duplicates -------------------------------------------------------------------------


def test_similar_name_same_birth_date_warns(business, actor, make_customer):
    existing = make_customer(first_name="Zoë", last_name="Müller", date_of_birth=date(1990, 5, 1))
    with pytest.raises(PossibleDuplicate) as e:
        services.create_customer(
            business, actor, data(first_name="zoe", last_name="MULLER", date_of_birth=date(1990, 5, 1))
        )
    assert e.value.field is None and e.value.similar == [existing]
    c = services.create_customer(
        business,
        actor,
        data(first_name="zoe", last_name="MULLER", date_of_birth=date(1990, 5, 1)),
        allow_similar=True,
    )
    assert c.id != existing.id


def test_same_name_without_birth_date_warns(business, actor, make_customer):
    existing = make_customer(first_name="José", last_name="Pérez")
    with pytest.raises(PossibleDuplicate) as e:
        services.create_customer(business, actor, data(first_name="Jose", last_name="Perez"))
    assert e.value.similar == [existing]


def test_decomposed_accents_are_stored_composed_and_matched(business, actor, make_customer):
    existing = make_customer(first_name="José", last_name="Pérez")
    with pytest.raises(PossibleDuplicate) as e:
        services.create_customer(business, actor, data(first_name="Jose\u0301", last_name="PE\u0301REZ"))
    assert e.value.similar == [existing]
    c = services.create_customer(business, actor, data(first_name="Jose\u0301"), allow_similar=True)
    assert c.first_name == "José" and len(c.first_name) == 4


def test_same_name_different_birth_dates_is_no_duplicate(business, actor, make_customer):
    make_customer(first_name="Ada", last_name="Lovelace", date_of_birth=date(1980, 1, 1))
    services.create_customer(business, actor, data(date_of_birth=date(1990, 1, 1)))


def test_similar_ignores_other_business(business, make_business, actor, make_customer):
    make_customer(business_=make_business("Far"), first_name="Ada", last_name="Lovelace", email="x@x.com")
    services.create_customer(business, actor, data())


# --- walk-ins ------------------------------------------------------------------------------------


def test_walk_in_is_a_labelled_placeholder(business, actor):
    c = services.create_walk_in(business, actor)
    db.session.commit()
    assert c.is_dummy and c.dummy_label.startswith("Walk-in ") and len(c.dummy_label) == len("Walk-in 14:30")
    assert c.source == "walk-in" and c.display_name == c.dummy_label
    assert events()[0].changes["placeholder"] == c.dummy_label


def test_walk_in_with_details_and_label(business, actor):
    c = services.create_walk_in(
        business, actor, {"first_name": "Sam", "phone": "07911 222333"}, label="Red coat"
    )
    assert c.is_dummy and c.dummy_label == "Red coat" and c.phone == "+447911222333"


def test_walk_in_still_checks_details(business, actor):
    with pytest.raises(Invalid) as e:
        services.create_walk_in(business, actor, {"phone": "abc"})
    assert e.value.field == "phone"


def test_completing_a_walk_in_makes_a_full_customer(business, actor):
    c = services.create_walk_in(business, actor)
    db.session.commit()
    changed = services.update_customer(c, actor, {"first_name": "Sam"}, expected_version=c.version)
    assert c.is_dummy and "is_dummy" not in changed  # no contact yet
    db.session.commit()
    changed = services.update_customer(c, actor, {"phone": "07911 222333"}, expected_version=c.version)
    db.session.commit()
    assert not c.is_dummy and changed["is_dummy"] == [True, False]
    assert c.display_name == "Sam"


# --- update --------------------------------------------------------------------------------------


def test_update_records_each_changed_field(business, actor):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    v = c.version
    changed = services.update_customer(
        c, actor, data(last_name="King", phone="+44 7911 123456", notes="Likes tea"), expected_version=v
    )
    db.session.commit()
    assert changed == {"last_name": ["Lovelace", "King"], "notes": ["", "Likes tea"]}
    assert c.version == v + 1
    ev = events("customer.updated")[-1]
    assert ev.changes == changed


def test_update_with_no_change_writes_nothing(business, actor):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    assert services.update_customer(c, actor, data(), expected_version=c.version) == {}
    db.session.commit()
    assert events("customer.updated") == [] and c.version == 1


def test_update_keeps_own_email_and_rejects_anothers(business, actor):
    a = services.create_customer(business, actor, data())
    services.create_customer(business, actor, data(first_name="Bo", email="bo@example.com", phone=""))
    db.session.commit()
    services.update_customer(a, actor, data(email="ADA@EXAMPLE.COM"), expected_version=a.version)
    db.session.commit()
    with pytest.raises(Invalid) as e:
        services.update_customer(a, actor, data(email="Bo@example.com"), expected_version=a.version)
    assert e.value.field == "email" and e.value.owner.first_name == "Bo"


def test_update_full_customer_cannot_lose_all_contacts(business, actor):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    with pytest.raises(Invalid):
        services.update_customer(c, actor, data(email="", phone=""), expected_version=c.version)


def test_stale_edit_is_refused_with_current_values(business, actor):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    opened = c.version
    services.update_customer(c, actor, data(notes="first"), expected_version=opened)
    db.session.commit()
    with pytest.raises(Conflict) as e:
        services.update_customer(c, actor, data(notes="second"), expected_version=opened)
    assert e.value.current["notes"] == "first" and c.version == opened + 1
    db.session.rollback()
    assert c.notes == "first"


def test_tags_only_edit_bumps_version(business, actor, make_tag):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    tag = make_tag(name="VIP")
    services.update_customer(c, actor, {"tag_ids": [tag.id]}, expected_version=c.version)
    db.session.commit()
    assert c.version == 2


def test_counter_updates_do_not_make_an_edit_stale(business, actor):
    from sqlalchemy import update

    c = services.create_customer(business, actor, data())
    db.session.commit()
    opened = c.version
    db.session.execute(
        update(Customer).where(Customer.id == c.id).values(total_bookings=Customer.total_bookings + 1)
    )
    db.session.commit()
    services.update_customer(c, actor, data(notes="ok"), expected_version=opened)


# --- tags and consents ---------------------------------------------------------------------------


def test_set_tags_replaces_and_add_tags_adds(business, actor, make_tag):
    a, b, c_ = make_tag(name="A"), make_tag(name="B"), make_tag(name="C")
    c = services.create_customer(business, actor, data(tag_ids=[a.id, b.id]))
    db.session.commit()
    services.set_tags(c, [c_.id], actor)
    assert [t.name for t in c.tags] == ["C"]
    services.add_tags(c, [a.id], actor)
    db.session.commit()
    assert [t.name for t in c.tags] == ["A", "C"]
    changes = [e.changes["tags"] for e in events("customer.tags_changed")]
    assert changes == [[["A", "B"], ["C"]], [["C"], ["A", "C"]]]
    with pytest.raises(Invalid):
        services.set_tags(c, [12345], actor)


def test_set_consents_records_time_actor_and_history(business, actor, pref, make_user):
    other = make_user("manager")
    c = services.create_customer(business, actor, data())
    services.set_consents(c, {pref.id: True}, actor)
    db.session.commit()
    row = db.session.get(CustomerConsent, (c.id, pref.id))
    first_time = row.changed_at
    assert row.opted_in and row.changed_by_id == actor.id
    assert services.set_consents(c, {pref.id: True}, other) == {}  # same answer: nothing new
    services.set_consents(c, {pref.id: False}, other)
    db.session.commit()
    row = db.session.get(CustomerConsent, (c.id, pref.id))
    assert row.opted_in is False and row.changed_by_id == other.id and row.changed_at >= first_time
    assert [e.changes for e in events("customer.consents_changed")] == [
        {"Email offers": [None, True]},
        {"Email offers": [True, False]},
    ]


def test_consent_for_unknown_preference_rejected(business, actor):
    c = services.create_customer(business, actor, data())
    with pytest.raises(Invalid) as e:
        services.set_consents(c, {4242: True}, actor)
    assert e.value.field == "consents"


# --- delete and anonymize ------------------------------------------------------------------------


def test_delete_customer_without_history(business, actor, make_user):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    cid = c.id
    assert services.delete_or_anonymize(c, make_user("manager")) == "deleted"
    db.session.commit()
    assert db.session.get(Customer, cid) is None
    assert events("customer.deleted")[0].customer_id == cid
    created = events("customer.created")[0]
    assert created.changes["email"] == "(removed)"


def test_anonymize_customer_with_bookings(business, actor, make_booking, make_tag, pref):
    tag = make_tag(name="VIP")
    c = services.create_customer(
        business, actor, data(date_of_birth=date(1990, 1, 1), notes="n", address="1 Street", tag_ids=[tag.id])
    )
    services.set_consents(c, {pref.id: True}, actor)
    db.session.commit()
    make_booking(c, days=-3, status="completed", price=5000)
    db.session.execute(
        db.update(Customer).where(Customer.id == c.id).values(total_bookings=1, total_spent=5000)
    )
    db.session.commit()
    db.session.refresh(c)
    assert services.delete_or_anonymize(c, actor) == "anonymized"
    db.session.commit()
    db.session.expire_all()
    c = db.session.get(Customer, c.id)
    assert c.display_name == "Anonymized customer" and c.anonymized_at is not None
    assert (c.first_name, c.last_name, c.email, c.email_normalized, c.phone) == ("", "", None, None, None)
    assert c.date_of_birth is None and c.notes == "" and c.address == "" and c.tags == [] and c.consents == []
    assert c.total_spent == 5000 and c.total_bookings == 1
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert "Ada" not in str([e.changes for e in events()])
    # the email and phone are free again
    services.create_customer(business, actor, data())


def test_anonymized_customer_cannot_be_edited(business, actor, make_booking):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    make_booking(c)
    services.delete_or_anonymize(c, actor)
    db.session.commit()
    with pytest.raises(Invalid):
        services.update_customer(c, actor, data(), expected_version=c.version)


def test_customer_lookup_is_scoped_to_business(business, make_business, make_customer):
    c = make_customer()
    assert owned(Customer, c.id, business.id) is c
    assert owned(Customer, str(c.id), business.id) is c
    other = make_business("Other")
    assert owned(Customer, c.id, other.id) is None
    assert owned(Customer, "not-a-uuid", business.id) is None


def test_form_token_remembers_created_customer(business, actor):
    c = services.create_customer(business, actor, data())
    services.remember_token(business.id, "tok-1", c)
    db.session.commit()
    assert services.customer_for_token(business.id, "tok-1") is c
    assert services.customer_for_token(business.id + 1, "tok-1") is None
    assert services.customer_for_token(business.id, "") is None


def test_birthday_soon():
    from webapp.customers.profile import birthday_soon

    class C:
        date_of_birth = date(1990, 3, 5)

    assert birthday_soon(C(), date(2026, 3, 1)) == date(2026, 3, 5)
    assert birthday_soon(C(), date(2026, 3, 5)) == date(2026, 3, 5)
    assert birthday_soon(C(), date(2026, 2, 20)) is None
    C.date_of_birth = date(1992, 2, 29)
    assert birthday_soon(C(), date(2027, 2, 25)) == date(2027, 2, 28)
    C.date_of_birth = date(1990, 1, 2)
    assert birthday_soon(C(), date(2026, 12, 30)) == date(2027, 1, 2)
    assert birthday_soon(C(), date(2026, 12, 30) - timedelta(days=30)) is None


def test_walk_in_label_uses_the_business_time(make_business, make_user):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    far = make_business("Kiwi Cuts", timezone="Pacific/Auckland", phone_region="NZ")
    before = datetime.now(ZoneInfo("Pacific/Auckland"))
    c = services.create_walk_in(far, make_user("receptionist", far))
    after = datetime.now(ZoneInfo("Pacific/Auckland")) + timedelta(seconds=1)
    assert c.dummy_label in {f"Walk-in {before:%H:%M}", f"Walk-in {after:%H:%M}"}


# --- what an edit or an anonymize announces ------------------------------------------------------


@pytest.fixture
def heard():
    """Every contact_changed and customer_anonymized sent while the test runs: (signal, sender, kwargs)."""
    got = []

    def contact(sender, **kw):
        got.append(("contact_changed", sender, kw))

    def anonymized(sender, **kw):
        got.append(("customer_anonymized", sender, kw))

    signals.contact_changed.connect(contact)
    signals.customer_anonymized.connect(anonymized)
    yield got
    signals.contact_changed.disconnect(contact)
    signals.customer_anonymized.disconnect(anonymized)


def test_contact_change_is_announced_with_former_values(business, actor, heard):
    c = services.create_customer(business, actor, data(email="Ada@Example.com"))
    db.session.commit()
    assert heard == []  # creating is no change of contact
    services.update_customer(c, actor, data(email="Ada@Example.com", notes="x"), expected_version=c.version)
    assert heard == []  # other fields only
    services.update_customer(c, actor, data(email="new@example.com"), expected_version=c.version)
    assert heard == [
        ("contact_changed", c, {"email_before": "ada@example.com", "phone_before": None}),
    ]
    services.update_customer(c, actor, data(email="new@example.com", phone=""), expected_version=c.version)
    assert heard[-1] == ("contact_changed", c, {"email_before": None, "phone_before": "+447911123456"})


def test_refused_edit_announces_nothing(business, actor, heard):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    with pytest.raises(Invalid):
        services.update_customer(c, actor, data(phone="abc"), expected_version=c.version)
    with pytest.raises(Conflict):
        services.update_customer(c, actor, data(phone="07911 654321"), expected_version=c.version - 1)
    assert heard == []


def test_delete_is_announced_before_the_row_goes(business, actor):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    seen = []

    def deleting(sender, **kw):
        seen.append((sender, db.session.get(Customer, sender.id) is not None))

    signals.customer_deleting.connect(deleting)
    try:
        assert services.delete_or_anonymize(c, actor) == "deleted"
    finally:
        signals.customer_deleting.disconnect(deleting)
    assert seen == [(c, True)]


def test_anonymize_is_announced_once(business, actor, make_booking, heard):
    c = services.create_customer(business, actor, data())
    db.session.commit()
    make_booking(c)
    services.delete_or_anonymize(c, actor)
    services.anonymize(c, actor)  # already anonymized: nothing more
    assert heard == [("customer_anonymized", c, {})]
    assert c.email is None and c.phone is None


# --- the typed errors ----------------------------------------------------------------------------


def test_errors_are_typed(business, actor, make_tag):
    for bad in (data(phone="abc"), data(first_name=""), {"tag_ids": [4242], **data()}):
        with pytest.raises(Invalid) as e:
            services.create_customer(business, actor, bad)
        assert type(e.value) is Invalid and e.value.problems
    with pytest.raises(Invalid) as e:
        services.create_walk_in(business, actor, label="x" * 81)
    assert e.value.problems == {"dummy_label": "Use at most 80 characters for the label."}


def test_taken_contact_carries_the_other_problems(business, actor):
    first = services.create_customer(business, actor, data())
    with pytest.raises(ContactTaken) as e:
        services.create_customer(business, actor, data(first_name="", email="bad", phone="07911 123456"))
    assert set(e.value.problems) == {"email", "phone", "first_name"}
    assert e.value.owners == {"phone": first} and e.value.field == "email" and e.value.owner is first
