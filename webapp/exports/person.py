"""Everything held about one person, as plain JSON-ready data (an access request's answer).

The answer is built from SECTIONS, in order: each is a function of (customer, ids) returning what one
part of the app holds, where `ids` are the customer's id and every record merged into it. The money
parts (sales, points, cards, ledger) are in money_sections.py, registered with `@section("name")` too.
"""

import uuid
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import inspect, select

from webapp.customers.erasure import merged_away_ids
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Booking,
    Customer,
    CustomerConsent,
    CustomerContactHistory,
    Location,
    MarketingPreference,
    StaffUser,
    Tag,
)
from webapp.models.customer import customer_location, customer_tag

FORMAT = "frontdesk.person-export/1"
CONSENT_ACTION = "customer.consents_changed"
# Columns of the record that are the app's own machinery, not information about the person.
INTERNAL = {"search_name", "search_name_rev", "search_phone", "search_company", "search_text", "tag_list"}

SECTIONS: dict[str, Callable[[Customer, list], object]] = {}


def section(name: str):
    """Register `fn(customer, ids)` as the part `name` of a person's export (a later one replaces)."""

    def register(fn):
        SECTIONS[name] = fn
        return fn

    return register


def plain(value):
    """A column value as JSON holds it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def record_of(obj) -> dict:
    """Every mapped column of a row (the internal search keys left out)."""
    columns = inspect(type(obj)).columns
    return {c.key: plain(getattr(obj, c.key)) for c in columns if c.key not in INTERNAL}


def person_export(customer: Customer) -> dict:
    """Everything held about `customer` and the records merged into it."""
    ids = [customer.id, *merged_away_ids(customer)]
    out = {"format": FORMAT, "exported_at": plain(utcnow()), "customer_id": str(customer.id)}
    for name, fn in SECTIONS.items():
        out[name] = fn(customer, ids)
    return out


@section("record")
def record_section(customer: Customer, ids: list) -> dict:
    """The customer's own row: details, blacklist, counters, dates."""
    return record_of(customer)


@section("tags")
def tags_section(customer: Customer, ids: list) -> list:
    """The names of the customer's tags."""
    return list(
        db.session.scalars(
            select(Tag.name)
            .join(customer_tag, customer_tag.c.tag_id == Tag.id)
            .where(
                customer_tag.c.business_id == customer.business_id, customer_tag.c.customer_id == customer.id
            )
            .order_by(Tag.name)
        )
    )


@section("locations")
def locations_section(customer: Customer, ids: list) -> list:
    """The locations the customer is associated with."""
    return list(
        db.session.scalars(
            select(Location.name)
            .join(customer_location, customer_location.c.location_id == Location.id)
            .where(
                customer_location.c.business_id == customer.business_id,
                customer_location.c.customer_id == customer.id,
            )
            .order_by(Location.name)
        )
    )


@section("consents")
def consents_section(customer: Customer, ids: list) -> list:
    """Each marketing preference the customer answered: the answer now, when and by whom, and every
    change recorded (from the audit trail)."""
    b = customer.business_id
    rows = db.session.execute(
        select(MarketingPreference.name, CustomerConsent.opted_in, CustomerConsent.changed_at, StaffUser.name)
        .join(MarketingPreference, MarketingPreference.id == CustomerConsent.preference_id)
        .outerjoin(StaffUser, StaffUser.id == CustomerConsent.changed_by_id)
        .where(CustomerConsent.business_id == b, CustomerConsent.customer_id == customer.id)
        .order_by(MarketingPreference.name)
    ).all()
    history: dict[str, list] = {}
    events = db.session.execute(
        select(AuditEvent.created_at, AuditEvent.actor_label, AuditEvent.changes)
        .where(
            AuditEvent.business_id == b, AuditEvent.customer_id.in_(ids), AuditEvent.action == CONSENT_ACTION
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    for at, actor, changes in events:
        for name, change in (changes or {}).items():
            before, after = change if isinstance(change, list) and len(change) == 2 else (None, change)
            history.setdefault(name, []).append({"at": plain(at), "by": actor, "from": before, "to": after})
    out = [
        {
            "preference": name,
            "opted_in": opted_in,
            "changed_at": plain(changed_at),
            "changed_by": by,
            "history": history.pop(name, []),
        }
        for name, opted_in, changed_at, by in rows
    ]
    # Preferences answered once and since removed (or renamed) still have their history.
    out += [{"preference": name, "opted_in": None, "history": h} for name, h in sorted(history.items())]
    return out


@section("bookings")
def bookings_section(customer: Customer, ids: list) -> list:
    """Every booking of the customer (those of merged records moved to it on merge)."""
    rows = db.session.scalars(
        select(Booking)
        .where(Booking.business_id == customer.business_id, Booking.customer_id.in_(ids))
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    return [{**record_of(b), "location": b.location.name} for b in rows]


@section("audit_events")
def audit_section(customer: Customer, ids: list) -> list:
    """What staff did to the customer (and to the records merged into it), oldest first."""
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.business_id == customer.business_id, AuditEvent.customer_id.in_(ids))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    return [
        {
            "at": plain(e.created_at),
            "action": e.action,
            "by": e.actor_label,
            "customer_id": plain(e.customer_id),
            "changes": e.changes,
        }
        for e in rows
    ]


@section("merged_records")
def merged_section(customer: Customer, ids: list) -> list:
    """The records merged into this customer (directly or through a chain), each as it is kept."""
    others = [i for i in ids if i != customer.id]
    if not others:
        return []
    rows = db.session.scalars(
        select(Customer)
        .where(Customer.business_id == customer.business_id, Customer.id.in_(others))
        .order_by(Customer.merged_at, Customer.id)
    ).all()
    return [record_of(c) for c in rows]


@section("former_contacts")
def former_contacts_section(customer: Customer, ids: list) -> list:
    """Emails and phones the customer used to have (kept to recognize a blacklisted person)."""
    rows = db.session.scalars(
        select(CustomerContactHistory)
        .where(
            CustomerContactHistory.business_id == customer.business_id,
            CustomerContactHistory.customer_id.in_(ids),
        )
        .order_by(CustomerContactHistory.recorded_at, CustomerContactHistory.id)
    ).all()
    return [
        {"email": r.email_normalized, "phone": r.phone, "why": r.why, "recorded_at": plain(r.recorded_at)}
        for r in rows
    ]


from webapp.exports import money_sections  # noqa: E402,F401  (registers sales, points, cards, ledger)
