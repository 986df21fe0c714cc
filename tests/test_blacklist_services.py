"""Blacklist rules: block and warn levels, expiry, reviews, suggestions and ban evasion."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from webapp.blacklist import services
from webapp.customers import services as customers
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Booking


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Max Manager")


def actions():
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_blacklist_needs_a_reason_and_records_who_and_when(make_customer, manager):
    c = make_customer()
    with pytest.raises(Invalid) as e:
        services.blacklist(c, manager, "   ")
    assert e.value.field == "reason"
    services.blacklist(c, manager, "  Threatened staff  ")
    db.session.commit()
    assert c.is_blacklisted and c.restriction == "block"
    assert c.blacklist_reason == "Threatened staff" and c.blacklisted_by_id == manager.id
    assert c.blacklisted_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.blacklisted"))
    assert event.changes["after"]["reason"] == "Threatened staff" and event.actor_id == manager.id


def test_warn_level_is_not_blacklisted(make_customer, manager):
    c = make_customer()
    services.blacklist(c, manager, "Pays late", level="warn")
    assert c.restriction == "warn" and not c.is_blacklisted
    with pytest.raises(Invalid) as e:
        services.blacklist(c, manager, "x", level="ban")
    assert e.value.field == "level"


def test_changing_a_restriction_is_its_own_event(make_customer, manager):
    c = make_customer()
    services.blacklist(c, manager, "Pays late", level="warn")
    services.blacklist(c, manager, "Stopped paying", level="block")
    db.session.commit()
    assert actions() == ["customer.blacklisted", "customer.blacklist_changed"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.blacklist_changed"))
    assert event.changes["before"]["level"] == "warn" and event.changes["after"]["level"] == "block"


def test_expiry_must_be_future_and_lapses_by_itself(make_customer, manager):
    c = make_customer()
    with pytest.raises(Invalid) as e:
        services.blacklist(c, manager, "x", expires_on=date.today())
    assert e.value.field == "expires_on"
    services.blacklist(c, manager, "Cooling off", expires_on=date.today() + timedelta(days=1))
    assert c.is_blacklisted
    c.blacklist_expires_on = date.today()  # the day comes
    assert c.restriction is None and not c.is_blacklisted


def test_unblacklist_needs_a_reason(make_customer, manager):
    c = make_customer()
    with pytest.raises(Invalid, match="not blacklisted"):
        services.unblacklist(c, manager, "why not")
    services.blacklist(c, manager, "Rude")
    with pytest.raises(Invalid) as e:
        services.unblacklist(c, manager, "")
    assert e.value.field == "reason"
    services.unblacklist(c, manager, "Apologised")
    db.session.commit()
    assert c.restriction is None and c.blacklisted_at is None and c.blacklist_reason == ""
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.unblacklisted"))
    assert event.changes["reason"] == "Apologised" and event.changes["before"]["reason"] == "Rude"


def test_mark_reviewed(make_customer, manager):
    c = make_customer()
    with pytest.raises(Invalid):
        services.mark_reviewed(c, manager)
    services.blacklist(c, manager, "Rude")
    services.mark_reviewed(c, manager, "Still applies")
    assert c.blacklist_reviewed_at is not None and c.blacklist_reviewed_by_id == manager.id
    assert actions()[-1] == "customer.blacklist_reviewed"


def test_merged_or_anonymized_customers_cannot_be_restricted(make_customer, manager):
    a, b = make_customer(), make_customer()
    a.merged_into_id = b.id
    with pytest.raises(Invalid, match="merged"):
        services.blacklist(a, manager, "x")
    b.anonymized_at = datetime.now(UTC)
    with pytest.raises(Invalid, match="anonymized"):
        services.blacklist(b, manager, "x")


def test_suggested_for_review(make_customer, make_booking, manager):
    flaky, fine, banned = make_customer(first_name="Flaky"), make_customer(), make_customer()
    for days in (-5, -20, -40):
        make_booking(flaky, days=days, status="no_show")
        make_booking(banned, days=days, status="no_show")
    make_booking(fine, days=-5, status="no_show")
    make_booking(fine, days=-100, status="no_show")  # outside the 90 days
    make_booking(fine, days=-200, status="no_show")
    # a late cancellation: cancelled less than 24 hours before the start
    late = make_booking(fine, days=-3, status="cancelled", cancelled_by="customer")
    late.updated_at = late.starts_at - timedelta(hours=2)
    early = make_booking(fine, days=-2, status="cancelled", cancelled_by="customer")
    early.updated_at = early.starts_at - timedelta(days=3)
    services.blacklist(banned, manager, "Already done")
    db.session.commit()
    suggested = services.suggested_for_review(flaky.business_id)
    assert [(c.first_name, n, lt) for c, n, lt in suggested] == [("Flaky", 3, 0)]
    extra = make_booking(fine, days=-1, status="cancelled", cancelled_by="customer")
    extra.updated_at = extra.starts_at - timedelta(hours=1)
    db.session.commit()
    found = {c.id: (n, lt) for c, n, lt in services.suggested_for_review(flaky.business_id)}
    assert found[fine.id] == (1, 2)
    assert db.session.get(Booking, early.id).status == "cancelled"


def test_ban_evasion_finds_present_and_former_details(make_customer, manager):
    banned = make_customer(email="trouble@example.com", phone="+447911123456")
    services.blacklist(banned, manager, "Fraud")
    db.session.commit()
    assert services.ban_evasion_matches(banned.business_id, "TROUBLE@example.com", None) == [banned]
    assert services.ban_evasion_matches(banned.business_id, None, "+447911123456") == [banned]
    assert services.ban_evasion_matches(banned.business_id, None, "+447911123456", exclude_id=banned.id) == []
    assert (
        services.ban_evasion_matches(banned.business_id, None, "+447911123456", exclude_id=str(banned.id))
        == []
    )
    customers.update_customer(
        banned,
        manager,
        {"email": "new@example.com", "phone": "+447911000111"},
        expected_version=banned.version,
    )
    db.session.commit()
    assert services.ban_evasion_matches(banned.business_id, "trouble@example.com", None) == [banned]
    assert services.ban_evasion_matches(banned.business_id, None, "+447911123456") == [banned]
    assert services.ban_evasion_matches(banned.business_id, "someone@example.com", "+447911999999") == []
    services.unblacklist(banned, manager, "Cleared")
    db.session.commit()
    assert services.ban_evasion_matches(banned.business_id, "trouble@example.com", None) == []


def test_ban_evasion_forgets_anonymized_customers(make_customer, manager):
    banned = make_customer(email="old@example.com")
    services.blacklist(banned, manager, "Fraud")
    customers.update_customer(
        banned, manager, {"email": "other@example.com"}, expected_version=banned.version
    )
    db.session.commit()
    from webapp.models import CustomerContactHistory

    assert [h.email_normalized for h in db.session.scalars(select(CustomerContactHistory))] == [
        "old@example.com"
    ]
    customers.anonymize(banned, manager)
    db.session.commit()
    assert db.session.scalars(select(CustomerContactHistory)).all() == []


def test_ban_evasion_across_businesses(make_customer, make_business, manager):
    banned = make_customer(email="trouble@example.com")
    services.blacklist(banned, manager, "Fraud")
    db.session.commit()
    other = make_business("Other")
    assert services.ban_evasion_matches(other.id, "trouble@example.com", None) == []


def test_evasion_for_reads_contact_details_as_typed(app, make_customer, manager, business):
    from flask import get_flashed_messages

    from webapp.blacklist.evasion import evasion_for, flash_evasion

    banned = make_customer(first_name="Vic", email="vic@example.com", phone="+447911123456")
    services.blacklist(banned, manager, "Stole a hairdryer")
    db.session.commit()
    assert evasion_for(business, phone="07911 123456") == [banned]
    assert evasion_for(business, email=" VIC@example.com ") == [banned]
    assert evasion_for(business, phone="not a number", email="") == []
    # the old number is now a former contact detail
    customers.update_customer(banned, manager, {"phone": "+447911000999"}, expected_version=banned.version)
    db.session.commit()
    newcomer = make_customer(first_name="Victor", email="other@example.com", phone="+447911123456")
    with app.test_request_context():
        flash_evasion(newcomer)
        (message,) = get_flashed_messages()
    assert (
        "Possible ban evasion" in message
        and "Vic Test</a>, who is blacklisted (Stole a hairdryer)" in message
    )
