"""Customer rules: create, edit, walk-ins, tags, consents, delete or anonymize. Views, the API and
commands all call these; they flush and record audit events, the caller commits."""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort
from sqlalchemy import delete, exists, insert, select
from sqlalchemy.orm.exc import StaleDataError

from webapp.audit import record
from webapp.customers.checks import (
    check_consents,
    check_customer,
    find_contact_owner,
    find_similar,
    owned_rows,
)
from webapp.customers.rules import check_label, normalize_email, normalize_phone
from webapp.customers.tokens import customer_for_token, remember_token
from webapp.database import utcnow
from webapp.errors import RuleBroken
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    Booking,
    Business,
    Customer,
    CustomerConsent,
    Location,
    StaffUser,
    Tag,
    customer_location,
    customer_tag,
)

__all__ = [
    "RuleBroken",
    "StaleEdit",
    "add_tags",
    "check_customer",
    "create_customer",
    "create_walk_in",
    "customer_for_token",
    "delete_or_anonymize",
    "find_contact_owner",
    "find_similar",
    "get_customer",
    "has_history",
    "normalize_email",
    "normalize_phone",
    "remember_token",
    "set_consents",
    "set_tags",
    "update_customer",
]

# The plain fields a create or edit may set, in the order a form shows them.
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "company",
    "address",
    "notes",
    "source",
    "custom_field_value",
)
PERSONAL_FIELDS = FIELDS + ("dummy_label", "email_normalized")


class StaleEdit(Exception):
    """An edit was made on an older version of the record; `current` holds the saved values now."""

    def __init__(self, customer: Customer, current: dict):
        super().__init__("This customer was changed by someone else since the form was opened.")
        self.customer = customer
        self.current = current
        self.version = customer.version


# --- reading -------------------------------------------------------------------------------------


def get_customer(business_id: int, customer_id) -> Customer:
    """The customer of this business, or 404 (another business's id is a 404 too)."""
    try:
        key = customer_id if isinstance(customer_id, uuid.UUID) else uuid.UUID(str(customer_id))
    except ValueError:
        abort(404)
    customer = db.session.get(Customer, key)
    if customer is None or customer.business_id != business_id:
        abort(404)
    return customer


def snapshot(customer: Customer) -> dict:
    """The editable values of a record, JSON-friendly (dates as ISO strings, tags as names)."""
    values = {f: getattr(customer, f) for f in FIELDS}
    values["date_of_birth"] = customer.date_of_birth.isoformat() if customer.date_of_birth else None
    values["tags"] = [t.name for t in customer.tags]
    values["locations"] = [loc.name for loc in customer.locations]
    return values


# --- creating ------------------------------------------------------------------------------------


def _apply(customer: Customer, clean: dict) -> dict:
    """Set the plain fields from clean values; returns {field: [old, new]} for those that changed."""
    changed = {}
    for f in (*FIELDS, "dummy_label"):
        if f not in clean:
            continue
        new = clean[f]
        if f in ("email", "phone") and new == "":
            new = None
        old = getattr(customer, f)
        if old != new and not (old in (None, "") and new in (None, "")):
            changed[f] = [_jsonable(old), _jsonable(new)]
            setattr(customer, f, new)
    if "email" in clean:
        customer.email_normalized = normalize_email(customer.email)
    return changed


def _jsonable(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def create_customer(
    business: Business, actor: StaffUser | None, data: dict, *, allow_similar: bool = False
) -> Customer:
    """A full customer (first name and an email or phone). Raises RuleBroken for a broken rule, a
    taken email or phone (extra `customer`), or a similar name unless allowed (field None, `similar`)."""
    clean = check_customer(business, data, full=True)
    if not allow_similar:
        similar = find_similar(
            business.id, clean.get("first_name", ""), clean.get("last_name", ""), clean.get("date_of_birth")
        )
        if similar:
            names = ", ".join(c.display_name for c in similar[:3])
            raise RuleBroken(None, f"This may be someone already in the book: {names}.", similar=similar)
    return _insert(business, actor, clean, is_dummy=False)


def create_walk_in(
    business: Business, actor: StaffUser | None, data: dict | None = None, label: str | None = None
) -> Customer:
    """A placeholder for someone who walked in: a label ("Walk-in 14:30") and any details given."""
    data = dict(data or {})
    data.setdefault("source", "walk-in")
    clean = check_customer(business, data, full=False)
    clean.pop("dummy_label", None)
    try:
        label = check_label(label) or walk_in_label(business)
    except RuleBroken as e:
        raise RuleBroken("dummy_label", e.message, problems={"dummy_label": e.message}) from None
    return _insert(business, actor, clean, is_dummy=True, dummy_label=label)


def walk_in_label(business: Business) -> str:
    """ "Walk-in 14:30", in the business's own time."""
    return f"Walk-in {datetime.now(ZoneInfo(business.timezone or 'UTC')):%H:%M}"


def _insert(business: Business, actor, clean: dict, **flags) -> Customer:
    customer = Customer(business_id=business.id, **flags)
    _apply(customer, clean)
    db.session.add(customer)
    db.session.flush()
    _replace_links(customer, customer_tag, "tag_id", [], clean.get("tag_ids", []))
    _replace_links(customer, customer_location, "location_id", [], clean.get("location_ids", []))
    event = {f: _jsonable(clean[f]) for f in FIELDS if clean.get(f)}
    if flags.get("is_dummy"):
        event["placeholder"] = flags["dummy_label"]
    if customer.tags:
        event["tags"] = [t.name for t in customer.tags]
    if customer.locations:
        event["locations"] = [loc.name for loc in customer.locations]
    record(actor, "customer.created", customer, **event)
    if clean.get("consents"):
        _write_consents(customer, clean["consents"], actor)
    db.session.flush()
    return customer


# --- editing -------------------------------------------------------------------------------------


def update_customer(
    customer: Customer, actor: StaffUser | None, data: dict, *, expected_version: int
) -> dict:
    """Apply an edit made on `expected_version`; returns {field: [old, new]}. A placeholder given a
    first name and a contact becomes a full customer. Raises StaleEdit or RuleBroken."""
    if customer.anonymized_at is not None:
        raise RuleBroken(None, "This customer was anonymized; the record can no longer be edited.")
    if customer.merged_into_id is not None:
        raise RuleBroken(None, "This record was merged into another customer; edit that one instead.")
    if int(expected_version) != customer.version:
        raise StaleEdit(customer, snapshot(customer))
    business = db.session.get(Business, customer.business_id)
    clean = check_customer(business, data, customer=customer, full=not customer.is_dummy)
    changed = _apply(customer, clean)
    if customer.is_dummy and customer.first_name and (customer.email or customer.phone):
        customer.is_dummy = False
        changed["is_dummy"] = [True, False]
    if "tag_ids" in clean:
        changed.update(_replace_tags(customer, clean["tag_ids"]))
    if "location_ids" in clean:
        changed.update(_replace_locations(customer, clean["location_ids"]))
    if changed:
        customer.updated_at = utcnow()  # also bumps the version when only tags or locations changed
        record(actor, "customer.updated", customer, **changed)
    if clean.get("consents"):
        _write_consents(customer, clean["consents"], actor)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(customer)
        raise StaleEdit(customer, snapshot(customer)) from None
    return changed


def _replace_links(customer: Customer, table, column: str, have: list, want: list) -> bool:
    """Make the customer's rows in a link table (tags, locations) exactly `want`; True if changed.
    Written with SQL because the link rows carry business_id, which the ORM collection cannot set."""
    have_ids, want_ids = {r.id for r in have}, {r.id for r in want}
    if have_ids == want_ids:
        return False
    gone, new = have_ids - want_ids, want_ids - have_ids
    if gone:
        db.session.execute(
            delete(table).where(
                table.c.business_id == customer.business_id,
                table.c.customer_id == customer.id,
                table.c[column].in_(gone),
            )
        )
    if new:
        db.session.execute(
            insert(table),
            [
                {"business_id": customer.business_id, "customer_id": customer.id, column: i}
                for i in sorted(new)
            ],
        )
    db.session.expire(customer, ["tags", "locations"])
    return True


def _replace_tags(customer: Customer, tags: list[Tag]) -> dict:
    old = [t.name for t in customer.tags]
    if not _replace_links(customer, customer_tag, "tag_id", customer.tags, tags):
        return {}
    return {"tags": [old, [t.name for t in tags]]}


def _replace_locations(customer: Customer, locations: list[Location]) -> dict:
    old = [loc.name for loc in customer.locations]
    if not _replace_links(customer, customer_location, "location_id", customer.locations, locations):
        return {}
    return {"locations": [old, [loc.name for loc in locations]]}


def set_tags(customer: Customer, tag_ids, actor: StaffUser | None) -> dict:
    """Replace the customer's tags with exactly these; returns the change (empty when none)."""
    tags = owned_rows(Tag, customer.business_id, tag_ids, "tag_ids", "tags")
    changed = _replace_tags(customer, tags)
    if changed:
        customer.updated_at = utcnow()
        record(actor, "customer.tags_changed", customer, **changed)
        db.session.flush()
    return changed


def add_tags(customer: Customer, tag_ids, actor: StaffUser | None) -> dict:
    """Add these tags, keeping the ones the customer has (imports and upsert)."""
    tags = owned_rows(Tag, customer.business_id, tag_ids, "tag_ids", "tags")
    have = {t.id for t in customer.tags}
    return set_tags(customer, sorted(have | {t.id for t in tags}), actor)


def set_consents(customer: Customer, consents: dict, actor: StaffUser | None) -> dict:
    """Record opt-ins (True) and opt-outs (False) by preference id, with time and who; None leaves a
    preference as it is. Returns {preference name: [old, new]}."""
    return _write_consents(customer, check_consents(customer.business_id, consents), actor)


def _write_consents(customer: Customer, answers: dict, actor) -> dict:
    current = {c.preference_id: c for c in customer.consents}
    changed = {}
    now = utcnow()
    for pref, answer in answers.items():
        if answer is None:
            continue
        row = current.get(pref.id)
        old = row.opted_in if row is not None else None
        if old == answer:
            continue
        if row is None:
            row = CustomerConsent(preference_id=pref.id, business_id=customer.business_id, preference=pref)
            customer.consents.append(row)
        row.opted_in, row.changed_at = answer, now
        row.changed_by_id = actor.id if actor is not None else None
        changed[pref.name] = [old, answer]
    if changed:
        record(actor, "customer.consents_changed", customer, **changed)
        db.session.flush()
    return changed


# --- deleting ------------------------------------------------------------------------------------


def has_history(customer: Customer) -> bool:
    """True when other records point at this customer (bookings; sales to come; merged records)."""
    checks = [
        exists().where(Booking.business_id == customer.business_id, Booking.customer_id == customer.id),
        exists().where(Customer.business_id == customer.business_id, Customer.merged_into_id == customer.id),
    ]
    return any(db.session.scalar(select(check)) for check in checks)


def delete_or_anonymize(customer: Customer, actor: StaffUser | None) -> str:
    """Delete a customer with no history; anonymize one with history (personal data wiped, bookings and
    totals kept). Returns "deleted" or "anonymized"."""
    if has_history(customer):
        anonymize(customer, actor)
        return "anonymized"
    record(actor, "customer.deleted", customer, was_placeholder=customer.is_dummy)
    _scrub_history(customer)
    db.session.delete(customer)
    db.session.flush()
    return "deleted"


def anonymize(customer: Customer, actor: StaffUser | None) -> None:
    """Wipe the personal data of a customer whose bookings and totals must stay."""
    if customer.anonymized_at is not None:
        return
    for f in ("first_name", "last_name", "company", "address", "notes", "custom_field_value", "dummy_label"):
        setattr(customer, f, "")
    customer.email = customer.email_normalized = customer.phone = None
    customer.date_of_birth = None
    _replace_tags(customer, [])
    customer.consents = []
    customer.anonymized_at = utcnow()
    _scrub_history(customer)
    record(actor, "customer.anonymized", customer)
    db.session.flush()


def _scrub_history(customer: Customer) -> None:
    """Remove personal values from the customer's earlier audit events (the events themselves stay)."""
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.business_id == customer.business_id, AuditEvent.customer_id == customer.id
        )
    )
    for event in events:
        if any(k in PERSONAL_FIELDS or k == "placeholder" for k in event.changes or {}):
            event.changes = {
                k: ("(removed)" if k in PERSONAL_FIELDS or k == "placeholder" else v)
                for k, v in event.changes.items()
            }
