"""Removing a customer: delete one with no history, anonymize one whose bookings and totals must stay."""

import uuid

from sqlalchemy import bindparam, delete, exists, or_, select, update

from webapp import signals
from webapp.audit import record
from webapp.customers.fields import FIELDS
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Customer, CustomerConsent, StaffUser
from webapp.models.customer import LEAN, customer_tag
from webapp.models.money import CustomerCard, LedgerEntry, PointsTransaction, Sale
from webapp.models.search_keys import search_keys

# Rows that make a customer's history (with bookings): such a customer is anonymized, never deleted.
MONEY_ROWS = (Sale, PointsTransaction, LedgerEntry, CustomerCard)
# What an audit event holds instead of a value of the person once they are anonymized.
REDACTED = "(removed)"
# Values an audit event may hold that identify the person.
PERSONAL_FIELDS = FIELDS + ("dummy_label", "email_normalized", "placeholder")
WIPED_TEXT = ("first_name", "last_name", "company", "address", "notes", "custom_field_value", "dummy_label")
# The business's own words about the person (a restriction's reason, a review note, an override's
# reason): free text that may name them or describe their health or behaviour. Once the record is
# anonymized no restriction can match anyone again, so the words serve no purpose and are redacted;
# the level, dates and who set it stay ("who did what, when").
FREE_TEXT_KEYS = ("reason", "note", "blacklist_reason", "reference")  # reference: a payment's, as typed
RESTRICTION_SNAPSHOTS = ("before", "after")  # the blacklist's snapshots, each with a "reason"
TAG_ACTIONS = ("customer.created", "customer.updated", "customer.tags_changed")  # "tags": names
CONSENT_ACTION = "customer.consents_changed"  # every value is the person's answer


def has_history(customer: Customer) -> bool:
    """True when other records point at this customer: bookings, money (sales, points, store-credit
    entries, stamp cards: append-only, never deleted) or merged records."""
    b, me = customer.business_id, customer.id
    checks = [
        exists().where(Booking.business_id == b, Booking.customer_id == me),
        *(exists().where(m.business_id == b, m.customer_id == me) for m in MONEY_ROWS),
        exists().where(Customer.business_id == b, Customer.merged_into_id == me),
    ]
    return db.session.scalar(select(or_(*checks)))


def delete_or_anonymize(customer: Customer, actor: StaffUser | None) -> str:
    """Delete a customer with no history; anonymize one with history (personal data wiped, bookings and
    totals kept). Returns "deleted" or "anonymized"; a deletion is announced first (`customer_deleting`)."""
    if has_history(customer):
        anonymize(customer, actor)
        return "anonymized"
    record(actor, "customer.deleted", customer, was_placeholder=customer.is_dummy)
    scrub_history(customer)
    signals.customer_deleting.send(customer)
    db.session.delete(customer)
    db.session.flush()
    return "deleted"


def merged_away_ids(customer: Customer) -> list[uuid.UUID]:
    """Every record merged into this customer, directly or through a chain (R → S → T), in one query."""
    b = customer.business_id
    chain = (
        select(Customer.id)
        .where(Customer.business_id == b, Customer.merged_into_id == customer.id)
        .cte("chain", recursive=True)
    )
    # UNION (not UNION ALL) stops on a cycle, should one ever exist.
    chain = chain.union(
        select(Customer.id).where(Customer.business_id == b, Customer.merged_into_id == chain.c.id)
    )
    return list(db.session.scalars(select(chain.c.id)))


def wiped_values() -> dict:
    """The columns anonymizing sets, search keys included (a set-based UPDATE runs no mapper event)."""
    keys = search_keys("", "", "", None, None, "")
    return {
        **{f: "" for f in WIPED_TEXT},
        "email": None,
        "email_normalized": None,
        "phone": None,
        "date_of_birth": None,
        "blacklist_reason": "",
        "birth_month": None,
        **keys,
    }


def anonymize(customer: Customer, actor: StaffUser | None) -> None:
    """Wipe the personal data of a customer whose bookings and totals must stay, and of every record
    merged into it (they keep pointing at it); announces `customer_anonymized` for each so other
    features forget what they keep about the person."""
    if customer.anonymized_at is not None:
        return
    b, now = customer.business_id, utcnow()
    ids = [customer.id, *merged_away_ids(customer)]
    db.session.flush()  # pending changes first: the UPDATE below is the last word
    table = Customer.__table__
    db.session.execute(
        update(table)
        .where(table.c.business_id == b, table.c.id.in_(ids))
        .values(**wiped_values(), anonymized_at=now, updated_at=now, version=table.c.version + 1)
    )
    db.session.execute(
        delete(customer_tag).where(customer_tag.c.business_id == b, customer_tag.c.customer_id.in_(ids))
    )
    db.session.execute(
        delete(CustomerConsent).where(CustomerConsent.business_id == b, CustomerConsent.customer_id.in_(ids))
    )
    wiped = db.session.scalars(
        select(Customer)
        .where(Customer.business_id == b, Customer.id.in_(ids))
        .options(*LEAN)
        .execution_options(populate_existing=True)
    ).all()
    for c in wiped:
        db.session.expire(c, ["tags", "consents", "locations"])
    scrub_events(b, ids)
    for c in wiped:
        record(
            actor,
            "customer.anonymized",
            c,
            **({} if c.id == customer.id else {"survivor_id": str(customer.id)}),
        )
    db.session.flush()
    for c in sorted(wiped, key=lambda c: c.id != customer.id):  # the survivor first
        signals.customer_anonymized.send(c)


def redact_changes(action: str, changes: dict | None) -> dict | None:
    """An event's changes with every value of the person replaced by REDACTED; the keys (the names of
    the fields that changed) stay, so the history still says what was done."""
    if not changes:
        return changes
    out = {}
    for key, value in changes.items():
        if key in PERSONAL_FIELDS or action == CONSENT_ACTION or (key == "tags" and action in TAG_ACTIONS):
            out[key] = REDACTED
        elif key in FREE_TEXT_KEYS and value:
            out[key] = REDACTED
        elif key in RESTRICTION_SNAPSHOTS and isinstance(value, dict) and value.get("reason"):
            out[key] = {**value, "reason": REDACTED}
        else:
            out[key] = value
    return out


def scrub_events(business_id: int, customer_ids: list[uuid.UUID]) -> int:
    """Redact the personal values of these customers' audit events (the events themselves stay): one
    SELECT, the JSON redacted in Python, one executemany UPDATE of the events that change. Returns how
    many changed."""
    rows = db.session.execute(
        select(AuditEvent.id, AuditEvent.action, AuditEvent.changes).where(
            AuditEvent.business_id == business_id, AuditEvent.customer_id.in_(customer_ids)
        )
    ).all()
    changed = []
    for event_id, action, changes in rows:
        redacted = redact_changes(action, changes)
        if redacted != changes:
            changed.append({"event_id": event_id, "redacted": redacted})
    write_changes(changed)
    return len(changed)


def write_changes(changed: list[dict]) -> None:
    """Store new `changes` for many events ({"event_id", "redacted"} each) in one executemany UPDATE, and
    expire the session's copies of them."""
    if not changed:
        return
    table = AuditEvent.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("event_id")).values(changes=bindparam("redacted")),
        changed,
    )
    ids = {row["event_id"] for row in changed}
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, AuditEvent) and obj.id in ids:
            db.session.expire(obj, ["changes"])


def scrub_history(customer: Customer) -> None:
    """Remove personal values from the customer's earlier audit events (the events themselves stay)."""
    scrub_events(customer.business_id, [customer.id])
