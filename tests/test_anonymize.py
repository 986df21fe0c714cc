"""Anonymizing forgets the person everywhere: merged-away records, audit values and merge snapshots."""

import json
import time
import uuid
from datetime import date

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import Date, String, Text, select

from webapp.audit import record
from webapp.blacklist import services as blacklist_services
from webapp.customers import services
from webapp.customers.erasure import PERSONAL_FIELDS, REDACTED, merged_away_ids, redact_changes, wiped_values
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.merge import history as merge_history
from webapp.merge import services as merge_services
from webapp.merge import undo
from webapp.models import AuditEvent, Customer, MarketingPreference

# Customer columns that hold no person: codes, or copies derived from the wiped fields (the scan
# below checks the copies). A new text or date column is personal until it is added here.
NOT_PERSONAL = {"source", "blacklist_level", "tag_list", "blacklist_expires_on"}
NOT_PERSONAL |= {"search_name", "search_name_rev", "search_phone", "search_company", "search_text"}
PERSONAL_COLUMNS = {
    c.name
    for c in Customer.__table__.c
    if isinstance(c.type, String | Text | Date) and c.name not in NOT_PERSONAL
}

PEOPLE = {
    "R": dict(first_name="Rhiannonx", last_name="Quellbrook", email="rhiannonx@example.com",
              phone="07911 123401", company="Rcorpzz", address="1 Rstreetzz", notes="R-notezz",
              custom_field_value="R-customzz", date_of_birth=date(1971, 2, 3)),
    "S": dict(first_name="Saoirsex", last_name="Pennywhistle", email="saoirsex@example.com",
              phone="07911 123402", company="Scorpzz", address="2 Sstreetzz", notes="S-notezz",
              custom_field_value="S-customzz", date_of_birth=date(1972, 4, 5)),
    "T": dict(first_name="Thaddeusx", last_name="Okonkwo-Vale", email="thaddeusx@example.com",
              phone="07911 123403", company="Tcorpzz", address="3 Tstreetzz", notes="T-notezz",
              custom_field_value="T-customzz", date_of_birth=date(1973, 6, 7)),
}  # fmt: skip
# What T's edit and the restrictions add: they are the person's too.
EXTRA = {"T": ["thaddeus.new@example.com", "+447911123499", "Thaddeusx punched the till"],
         "S": ["Saoirsex never paid"]}  # fmt: skip


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Max")


@pytest.fixture
def book(business, manager, make_booking, make_customer, make_tag):
    """R merged into S, S into T (a chain); T edited, restricted, tagged, opted in; bookings moved to an
    outsider X; a merge of Y into T undone. Returns the records by letter."""
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(pref)
    db.session.commit()
    vip = make_tag("VIP")
    people = {
        k: services.create_customer(business, manager, v, allow_similar=True) for k, v in PEOPLE.items()
    }
    r, s, t = people["R"], people["S"], people["T"]
    services.update_customer(
        t, manager, {"email": EXTRA["T"][0], "phone": EXTRA["T"][1]}, expected_version=t.version
    )
    services.set_tags(t, [vip.id], manager)
    services.set_consents(t, {pref.id: True}, manager)
    blacklist_services.blacklist(t, manager, EXTRA["T"][2], level="warn")
    blacklist_services.blacklist(s, manager, EXTRA["S"][0])
    for c in (r, s, t):
        make_booking(c, days=-5, status="completed")
    db.session.commit()
    x = make_customer(first_name="Xavier", last_name="Outsider")
    y = make_customer(first_name="Yolanda", last_name="Other", phone=None)
    merge_services.transfer_bookings(t, x, manager)
    make_booking(t, days=-3, status="completed")
    event = merge_services.merge_customers(y, t, None, manager)
    db.session.commit()
    undo.undo_merge(event, manager)
    merge_services.merge_customers(r, s, None, manager)
    db.session.commit()
    merge_services.merge_customers(s, t, None, manager)
    db.session.commit()
    return {**people, "X": x, "Y": y}


def needles(book) -> list[str]:
    """Every value of R, S and T as the app may have stored it (typed, normalized, folded, digits)."""
    out = list(EXTRA["T"] + EXTRA["S"])
    for fields in PEOPLE.values():
        for v in fields.values():
            out.append(v.isoformat() if isinstance(v, date) else v)
        out.append(fields["phone"].replace(" ", "")[1:])  # national significant digits
        out.append("+44" + fields["phone"].replace(" ", "")[1:])  # E.164
    out.append(EXTRA["T"][1][3:])
    return [n.lower() for n in out]


def survivors(needles_: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every stored value of every table's text and JSON that holds one."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                if isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                elif isinstance(value, date):
                    value = value.isoformat()
                if not isinstance(value, str):
                    continue
                low = value.lower()
                found += [(table.name, column, n) for n in needles_ if n in low]
    return found


def anonymize_t(book, manager):
    assert services.delete_or_anonymize(book["T"], manager) == "anonymized"
    db.session.commit()
    db.session.expire_all()


# --- the service --------------------------------------------------------------------------------


def test_the_book_holds_the_people_before(book):
    """The scan finds what it looks for (so its silence after anonymizing means something)."""
    found = {n for _, _, n in survivors(needles(book))}
    assert "thaddeusx" in found and "saoirsex never paid" in found and "rhiannonx@example.com" in found


def test_anonymizing_the_survivor_wipes_the_chain(book, manager):
    anonymize_t(book, manager)
    r, s, t = (db.session.get(Customer, book[k].id) for k in "RST")
    assert set(merged_away_ids(t)) == {r.id, s.id}
    for c in (r, s, t):
        assert c.anonymized_at is not None and c.display_name == "Anonymized customer"
        for name in PERSONAL_COLUMNS:
            assert getattr(c, name) in (None, ""), (c.id, name)
        assert c.search_name == "" and c.search_text == "" and c.search_phone is None
        assert c.tags == [] and c.consents == []
    assert (s.merged_into_id, r.merged_into_id) == (t.id, s.id)  # old links still redirect
    assert t.total_bookings == 3  # bookings and totals stay


def test_no_value_of_the_person_survives_in_any_table(book, manager):
    anonymize_t(book, manager)
    assert survivors(needles(book)) == []
    # the others in their merges and transfers keep their own names
    assert any(n == "xavier" for _, _, n in survivors(["xavier"]))
    assert any(n == "yolanda" for _, _, n in survivors(["yolanda"]))


def test_every_personal_column_is_wiped():
    """A new personal column on customers fails here until anonymizing wipes it (or NOT_PERSONAL says
    why it holds no person)."""
    assert PERSONAL_COLUMNS - {"anonymized_at", "merged_at", "date_of_birth"} <= set(wiped_values())
    assert "date_of_birth" in wiped_values()


@pytest.mark.parametrize("field", PERSONAL_FIELDS)
def test_every_personal_field_of_an_event_is_redacted(field):
    changes = {field: ["old value", "new value"], "is_dummy": [True, False]}
    assert redact_changes("customer.updated", changes) == {field: REDACTED, "is_dummy": [True, False]}


def test_events_keep_action_actor_time_and_field_names(book, manager):
    before = {
        e.id: (e.action, e.actor_id, e.created_at, sorted(e.changes or {}))
        for e in db.session.scalars(select(AuditEvent))
    }
    anonymize_t(book, manager)
    after = {e.id: e for e in db.session.scalars(select(AuditEvent))}
    for event_id, kept in before.items():
        e = after[event_id]
        assert (e.action, e.actor_id, e.created_at, sorted(e.changes or {})) == kept
    edit = next(e for e in after.values() if e.action == "customer.updated" and e.customer_id == book["T"].id)
    assert edit.changes == {"email": REDACTED, "phone": REDACTED}
    merged = [e for e in after.values() if e.action == "customer.merged" and e.customer_id == book["T"].id]
    s_merge = next(e for e in merged if e.changes["source_id"] == str(book["S"].id))
    assert s_merge.changes["source_name"] == "Anonymized customer"
    assert s_merge.changes["source_before"]["email"] == REDACTED
    assert s_merge.changes["source_before"]["blacklist_level"] == "block"  # what was done stays
    y_merge = next(e for e in merged if e.changes["source_id"] == str(book["Y"].id))
    assert y_merge.changes["source_name"] == "Yolanda Other"  # Y was not anonymized
    assert y_merge.changes["target_before"]["first_name"] == REDACTED


def test_stats_of_a_merged_away_record_say_nothing_personal(book, manager, login_as):
    anonymize_t(book, manager)
    client = login_as("receptionist")
    for key in "RS":
        body = client.get(f"/api/v1/merchant/customers/{book[key].id}/stats").get_json()
        text = json.dumps(body).lower()
        assert [n for n in needles(book) if n in text] == []
        assert body["full_name"] == "Anonymized customer" and body["merged_into_id"]


def test_anonymizing_a_customer_with_nothing_merged_in_sends_one_signal(make_customer, manager):
    from webapp import signals

    heard = []
    c = make_customer()

    def hear(sender, **kw):
        heard.append(sender.id)

    signals.customer_anonymized.connect(hear)
    try:
        services.anonymize(c, manager)
    finally:
        signals.customer_anonymized.disconnect(hear)
    assert heard == [c.id]


def test_undo_of_a_merge_into_an_anonymized_survivor_is_refused(book, manager):
    anonymize_t(book, manager)
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "customer.merged", AuditEvent.customer_id == book["T"].id
        )
    ).all()[-1]
    with pytest.raises(Invalid, match="anonymized on .*cannot be undone"):
        undo.undo_merge(event, manager)
    source = db.session.get(Customer, book["S"].id)
    assert source.merged_into_id == book["T"].id and source.anonymized_at is not None


# --- the history --------------------------------------------------------------------------------


def test_profile_history_after_anonymizing_says_who_did_what_when(book, manager, login_as):
    anonymize_t(book, manager)
    owner = login_as("owner")
    html = owner.get(f"/customers/{book['T'].id}").data.decode()
    low = html.lower()
    assert [n for n in needles(book) if n in low] == []
    assert "Edited" in html and "Email, Phone" in html and "values removed" in html
    assert "by Max" in html and "Anonymized" in html
    assert "Merged <strong>Anonymized customer</strong> into this customer" in " ".join(html.split())
    assert "cannot be undone" in html  # the manager sees why there is no Undo
    r = owner.get(f"/customers/{book['R'].id}")  # an old link of a merged-away record still leads there
    assert r.status_code in (301, 302, 303) and str(book["T"].id) in r.headers["Location"]


def test_merged_away_history_renders(book, manager, app):
    anonymize_t(book, manager)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.customer_id == book["S"].id)).all()
    context = merge_history.profile_context(events)
    with app.test_request_context():
        login_user(manager)
        for e in events:
            if e.action in merge_history.MERGE_ACTIONS:
                html = render_template("merge/_event_summary.html", event=e, redacted=REDACTED, **context)
                assert "Thaddeusx" not in html and "Saoirsex" not in html


# --- cost ---------------------------------------------------------------------------------------


def test_anonymizing_a_customer_with_5000_events_is_quick(make_customer, make_booking, manager, capsys):
    c = make_customer(first_name="Many", email="many@example.com")
    make_booking(c, days=-1, status="completed")
    db.session.bulk_insert_mappings(
        AuditEvent,
        [
            {
                "business_id": c.business_id,
                "actor_id": manager.id,
                "actor_label": "Max",
                "action": "customer.updated" if i % 2 else "booking.created",
                "customer_id": c.id,
                "changes": {
                    "email": [f"old{i}@example.com", "many@example.com"],
                    "phone": [None, "+447911123456"],
                }
                if i % 2
                else {"booking_id": str(uuid.uuid4()), "service": "Cut"},
            }
            for i in range(5000)
        ],
    )
    record(manager, "customer.updated", c, notes=["", "Many's notes"])
    db.session.commit()
    started = time.perf_counter()
    services.anonymize(c, manager)
    db.session.commit()
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nanonymizing a customer with 5,001 audit events: {seconds * 1000:.0f} ms")
    assert "many@example.com" not in json.dumps([e.changes for e in db.session.scalars(select(AuditEvent))])
    assert seconds < 5
