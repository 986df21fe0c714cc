"""One person's data (an access request): everything held about them, tenant-scoped, audited."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from webapp.customers import services as customer_services
from webapp.exports import person, services
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    CardProgram,
    CardStamp,
    Customer,
    CustomerCard,
    LedgerEntry,
    MarketingPreference,
    PointsTransaction,
    Sale,
    SaleReversal,
    customer_location,
)


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Max")


@pytest.fixture
def held(business, location, manager, make_customer, make_booking, make_tag):
    """A customer with a tag, a location, a consent changed twice, bookings and a merged-away record."""
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(pref)
    db.session.commit()
    ann = make_customer(first_name="Ann", last_name="Lee", phone="+447400123456", tags=[make_tag("VIP")])
    db.session.execute(
        customer_location.insert(),
        {"business_id": business.id, "customer_id": ann.id, "location_id": location.id},
    )
    customer_services.set_consents(ann, {pref.id: True}, manager)
    db.session.commit()
    customer_services.set_consents(ann, {pref.id: False}, manager)
    db.session.commit()
    make_booking(ann, days=-30, status="completed", service="Colour")
    make_booking(ann, days=7)
    old = make_customer(
        first_name="Annie", last_name="Lee", merged_into_id=ann.id, merged_at=datetime.now(UTC)
    )
    return {"ann": ann, "old": old, "pref": pref}


def test_everything_held(held, manager):
    ann, old = held["ann"], held["old"]
    data = services.export_person(ann, manager)
    db.session.commit()
    assert data["format"] == person.FORMAT and data["customer_id"] == str(ann.id)
    assert data["record"]["first_name"] == "Ann" and data["record"]["phone"] == "+447400123456"
    assert "search_text" not in data["record"]
    assert data["tags"] == ["VIP"] and data["locations"] == ["Main"]
    (consent,) = data["consents"]
    assert consent["preference"] == "Email offers" and consent["opted_in"] is False
    assert consent["changed_by"] == "Max"
    assert [(h["from"], h["to"]) for h in consent["history"]] == [(None, True), (True, False)]
    assert [b["service"] for b in data["bookings"]] == ["Colour", "Cut"]
    assert data["bookings"][0]["location"] == "Main"
    assert [m["id"] for m in data["merged_records"]] == [str(old.id)]
    assert {e["action"] for e in data["audit_events"]} >= {"customer.consents_changed"}
    assert data["sales"] == data["points"] == data["cards"] == data["ledger"] == []
    json.dumps(data)  # every value is JSON


def test_money_rows_of_the_person_and_of_records_merged_into_them(held, manager, business):
    """Sales with their reversal, points, cards with their stamps, ledger entries: every row, as stored
    (written here as rows, so this checks the export, not the services that write them)."""
    ann, old = held["ann"], held["old"]
    sale = Sale(business_id=business.id, customer_id=ann.id, receipt_number="REC-20261201-001", total=4500)
    moved = Sale(business_id=business.id, customer_id=old.id, receipt_number="OLD-7", total=1200)
    db.session.add_all([sale, moved])
    db.session.flush()
    db.session.add(
        SaleReversal(business_id=business.id, sale_id=sale.id, kind="refund", amount=4500, reason="Unhappy")
    )
    db.session.add(
        PointsTransaction(
            business_id=business.id, customer_id=ann.id, kind="earn", points=45, balance_after=45
        )
    )
    db.session.add(
        LedgerEntry(
            business_id=business.id,
            customer_id=ann.id,
            type="debit",
            kind="sale",
            amount=1200,
            balance_after=-1200,
        )
    )
    program = CardProgram(business_id=business.id, name="Blow-dry card", stamps_required=5, reward="Blow-dry")
    db.session.add(program)
    db.session.flush()
    card = CustomerCard(
        business_id=business.id, customer_id=ann.id, program_id=program.id, code="ABCD-EFGH-J", stamps=2
    )
    db.session.add(card)
    db.session.flush()
    db.session.add(
        CardStamp(
            business_id=business.id,
            card_id=card.id,
            customer_id=ann.id,
            kind="welcome",
            stamps=2,
            stamps_after=2,
        )
    )
    db.session.commit()

    data = services.export_person(ann, manager)
    assert [(s["receipt_number"], s["total"]) for s in data["sales"]] == [
        ("REC-20261201-001", 4500),
        ("OLD-7", 1200),
    ]
    assert (
        data["sales"][0]["reversal"]["kind"] == "refund"
        and data["sales"][0]["reversal"]["reason"] == "Unhappy"
    )
    assert data["sales"][1]["reversal"] is None
    assert [(p["kind"], p["points"], p["balance_after"]) for p in data["points"]] == [("earn", 45, 45)]
    assert [(e["type"], e["amount"], e["balance_after"]) for e in data["ledger"]] == [("debit", 1200, -1200)]
    (exported,) = data["cards"]
    assert exported["program"] == "Blow-dry card" and exported["code"] == "ABCD-EFGH-J"
    assert [(s["kind"], s["stamps_after"]) for s in exported["stamp_history"]] == [("welcome", 2)]
    json.dumps(data)


def test_audited(held, manager):
    services.export_person(held["ann"], manager)
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.data_exported"))
    assert event.customer_id == held["ann"].id and event.actor_id == manager.id
    assert "bookings" in event.changes["sections"] and "sales" in event.changes["sections"]


def test_a_later_feature_adds_its_section(held, monkeypatch):
    monkeypatch.setitem(person.SECTIONS, "sales", lambda customer, ids: [{"total": 1}])
    assert person.person_export(held["ann"])["sales"] == [{"total": 1}]


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_download(login_as, held, role):
    ann = held["ann"]
    r = login_as(role).get(f"/customers/{ann.id}/export.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="customer-{ann.id}-{datetime.now().date().isoformat()}.json"'
    )
    assert r.json["record"]["last_name"] == "Lee"


def test_receptionist_refused(login_as, held):
    r = login_as("receptionist").get(f"/customers/{held['ann'].id}/export.json")
    assert r.status_code == 403
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.data_exported")) is None


def test_a_foreign_or_unknown_id_is_404(login_as, make_business, make_customer):
    foreign = make_customer(business_=make_business("Elsewhere"))
    client = login_as("manager")
    assert client.get(f"/customers/{foreign.id}/export.json").status_code == 404
    assert client.get("/customers/00000000-0000-4000-8000-000000000000/export.json").status_code == 404


def test_the_profile_links_to_it_for_managers(login_as, held):
    ann = held["ann"]
    link = f"/customers/{ann.id}/export.json"
    assert link in login_as("manager").get(f"/customers/{ann.id}").data.decode()
    assert link not in login_as("receptionist").get(f"/customers/{ann.id}").data.decode()


def test_an_anonymized_customer_exports_what_is_left(held, manager):
    from webapp.customers.erasure import anonymize

    anonymize(held["ann"], manager)
    db.session.commit()
    ann = db.session.get(Customer, held["ann"].id)
    data = services.export_person(ann, manager)
    assert data["record"]["first_name"] == "" and data["tags"] == [] and data["record"]["anonymized_at"]
    assert len(data["bookings"]) == 2
