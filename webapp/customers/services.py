"""Customer rules: check a record, create, edit, walk-ins; with tags, consents and removal from their own
modules, re-exported here so views, the API and commands call one place. Services flush and record
audit events; the caller commits. Broken rules raise the typed errors of `webapp.errors`."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from webapp import signals
from webapp.audit import record
from webapp.customers.erasure import anonymize, delete_or_anonymize, has_history
from webapp.customers.fields import (
    FIELDS,
    TEXT_FIELDS,
    check_birth_date,
    check_email,
    check_label,
    check_source,
    check_text,
    normalize_email,
)
from webapp.customers.links import (
    add_tags,
    check_consents,
    owned_rows,
    replace_links,
    replace_locations,
    replace_tags,
    set_consents,
    set_tags,
    write_consents,
)
from webapp.customers.matches import find_contact_owner, find_similar
from webapp.customers.tokens import customer_for_token, remember_token
from webapp.database import utcnow
from webapp.errors import Conflict, ContactTaken, Invalid, PossibleDuplicate
from webapp.extensions import db
from webapp.models import Business, Customer, Location, StaffUser, Tag, customer_location, customer_tag
from webapp.models.locks import savepoint
from webapp.phones import normalize_changed_phone, normalize_phone
from webapp.text import has_control_characters

__all__ = [
    "FIELDS",
    "add_tags",
    "anonymize",
    "check_customer",
    "create_customer",
    "create_walk_in",
    "customer_for_token",
    "delete_or_anonymize",
    "find_contact_owner",
    "find_similar",
    "has_history",
    "normalize_email",
    "normalize_phone",
    "remember_token",
    "set_consents",
    "set_tags",
    "snapshot",
    "update_customer",
    "walk_in_label",
]


def snapshot(customer: Customer) -> dict:
    """The editable values of a record, JSON-friendly (dates as ISO strings, tags as names)."""
    values = {f: getattr(customer, f) for f in FIELDS}
    values["date_of_birth"] = customer.date_of_birth.isoformat() if customer.date_of_birth else None
    values["tags"] = [t.name for t in customer.tags]
    values["locations"] = [loc.name for loc in customer.locations]
    return values


# --- checking ------------------------------------------------------------------------------------


def check_customer(
    business: Business, data: dict, *, customer: Customer | None = None, full: bool = True
) -> dict:
    """Clean every given field and check every rule; returns the clean values. Raises Invalid with all
    problems at once, or ContactTaken (the problems, and who has the email or phone) when one is taken."""
    clean, problems = clean_fields(business, data, stored_phone=customer.phone if customer else None)
    owners = taken_contacts(business.id, clean, problems, customer)
    if full:
        problems.update(missing_fields(clean, problems, customer))
    if owners:
        raise ContactTaken(problems, owners)
    if problems:
        raise Invalid(problems)
    return clean


def clean_fields(business: Business, data: dict, stored_phone: str | None = None) -> tuple[dict, dict]:
    """Each given field's clean value, and {field: message} for those that break their rule. The phone
    already stored (an edit's) is kept when unchanged, whatever newer phone metadata says of it."""
    bid, region = business.id, business.phone_region
    rules = {f: (lambda v, f=f: check_text(f, v)) for f in TEXT_FIELDS} | {
        "email": check_email,
        "phone": lambda v: normalize_changed_phone(v, region, stored_phone),
        "date_of_birth": lambda v: check_birth_date(v, business),
        "source": check_source,
        "dummy_label": check_label,
        "tag_ids": lambda v: owned_rows(Tag, bid, v, "tag_ids", "tags"),
        "location_ids": lambda v: owned_rows(Location, bid, v, "location_ids", "locations"),
        "consents": lambda v: check_consents(bid, v),
    }
    clean: dict = {}
    problems: dict = {}
    for field, rule in rules.items():
        if field in data:
            if has_control_characters(data[field]):  # the API and the picker post here without a form
                problems[field] = "Remove the control character (such as a NUL byte) from this field."
                continue
            try:
                clean[field] = rule(data[field])
            except Invalid as e:
                problems.setdefault(e.field or field, e.message)
    return clean, problems


def taken_contacts(business_id: int, clean: dict, problems: dict, customer: Customer | None) -> dict:
    """{field: owner} for a clean email or phone another customer already has; adds their problems."""
    exclude = customer.id if customer is not None else None
    owners = {}
    if clean.get("email") and "email" not in problems:
        owner = find_contact_owner(business_id, email=normalize_email(clean["email"]), exclude=exclude)
        if owner is not None:
            owners["email"] = owner
            problems["email"] = f"{owner.display_name} already has this email."
    if clean.get("phone") and "phone" not in problems:
        owner = find_contact_owner(business_id, phone=clean["phone"], exclude=exclude)
        if owner is not None:
            owners["phone"] = owner
            problems["phone"] = f"{owner.display_name} already has this phone number."
    return owners


def missing_fields(clean: dict, problems: dict, customer: Customer | None) -> dict:
    """What a full customer lacks: a first name, and an email or a phone."""

    def value(f):
        return clean[f] if f in clean else (getattr(customer, f) if customer is not None else None)

    missing = {}
    if not value("first_name") and "first_name" not in problems:
        missing["first_name"] = "Give the customer's first name."
    if not value("email") and not value("phone") and "email" not in problems and "phone" not in problems:
        missing["email"] = "Give an email or a phone number (at least one)."
        missing["phone"] = "Give a phone number or an email (at least one)."
    return missing


# --- creating ------------------------------------------------------------------------------------


def apply_values(customer: Customer, clean: dict) -> dict:
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
            changed[f] = [jsonable(old), jsonable(new)]
            setattr(customer, f, new)
    if "email" in clean:
        customer.email_normalized = normalize_email(customer.email)
    return changed


def jsonable(value):
    """A value as an audit event stores it (dates as ISO strings)."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def create_customer(
    business: Business, actor: StaffUser | None, data: dict, *, allow_similar: bool = False
) -> Customer:
    """A full customer (first name and an email or phone). Raises Invalid, ContactTaken, or
    PossibleDuplicate for a similar name unless allowed."""
    clean = check_customer(business, data, full=True)
    if not allow_similar:
        similar = find_similar(
            business.id, clean.get("first_name", ""), clean.get("last_name", ""), clean.get("date_of_birth")
        )
        if similar:
            names = ", ".join(c.display_name for c in similar[:3])
            raise PossibleDuplicate(similar, f"This may be someone already in the book: {names}.")
    return insert_customer(business, actor, clean, is_dummy=False)


def create_walk_in(
    business: Business, actor: StaffUser | None, data: dict | None = None, label: str | None = None
) -> Customer:
    """A placeholder for someone who walked in: a label ("Walk-in 14:30") and any details given."""
    data = dict(data or {})
    data.setdefault("source", "walk-in")
    clean = check_customer(business, data, full=False)
    clean.pop("dummy_label", None)
    label = check_label(label) or walk_in_label(business)
    return insert_customer(business, actor, clean, is_dummy=True, dummy_label=label)


def walk_in_label(business: Business) -> str:
    """ "Walk-in 14:30", in the business's own time."""
    return f"Walk-in {datetime.now(ZoneInfo(business.timezone or 'UTC')):%H:%M}"


def insert_customer(business: Business, actor: StaffUser | None, clean: dict, **flags) -> Customer:
    """Add a customer from checked values, with its links, consents and a `customer.created` event."""
    customer = Customer(business_id=business.id, **flags)
    apply_values(customer, clean)
    try:
        with savepoint():  # the unique indexes decide a race the checks above cannot see
            db.session.add(customer)
            db.session.flush()
    except IntegrityError:
        raise taken_error(business.id, clean) from None
    replace_links(customer, customer_tag, "tag_id", [], clean.get("tag_ids", []))
    replace_links(customer, customer_location, "location_id", [], clean.get("location_ids", []))
    event = {f: jsonable(clean[f]) for f in FIELDS if clean.get(f)}
    if flags.get("is_dummy"):
        event["placeholder"] = flags["dummy_label"]
    if customer.tags:
        event["tags"] = [t.name for t in customer.tags]
    if customer.locations:
        event["locations"] = [loc.name for loc in customer.locations]
    record(actor, "customer.created", customer, **event)
    if clean.get("consents"):
        write_consents(customer, clean["consents"], actor)
    db.session.flush()
    return customer


def taken_error(business_id: int, clean: dict) -> Invalid:
    """Someone saved the same email or phone at the same moment: say who, as the check would have."""
    problems: dict = {}
    owners = taken_contacts(business_id, clean, problems, None)
    if not owners:  # another unique rule: nothing to name, but still not a 500
        return Invalid(None, "Someone saved a customer with these details at the same moment; try again.")
    return ContactTaken(problems, owners)


# --- editing -------------------------------------------------------------------------------------


def update_customer(
    customer: Customer, actor: StaffUser | None, data: dict, *, expected_version: int
) -> dict:
    """Apply an edit made on `expected_version`; returns {field: [old, new]}. A placeholder given a
    first name and a contact becomes a full customer. Raises Conflict (`current`: the saved values),
    Invalid or ContactTaken; a changed email or phone is announced (`contact_changed`)."""
    if customer.anonymized_at is not None:
        raise Invalid(None, "This customer was anonymized; the record can no longer be edited.")
    if customer.merged_into_id is not None:
        raise Invalid(None, "This record was merged into another customer; edit that one instead.")
    if int(expected_version) != customer.version:
        raise Conflict(snapshot(customer))
    business = db.session.get(Business, customer.business_id)
    clean = check_customer(business, data, customer=customer, full=not customer.is_dummy)
    email_before, phone_before = customer.email_normalized, customer.phone
    changed = apply_values(customer, clean)
    if customer.is_dummy and customer.first_name and (customer.email or customer.phone):
        customer.is_dummy = False
        changed["is_dummy"] = [True, False]
    if "tag_ids" in clean:
        changed.update(replace_tags(customer, clean["tag_ids"]))
    if "location_ids" in clean:
        changed.update(replace_locations(customer, clean["location_ids"]))
    if changed:
        customer.updated_at = utcnow()  # also bumps the version when only tags or locations changed
        record(actor, "customer.updated", customer, **changed)
    if clean.get("consents"):
        write_consents(customer, clean["consents"], actor)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(customer)
        raise Conflict(snapshot(customer)) from None
    announce_contact_change(customer, email_before, phone_before)
    return changed


def announce_contact_change(customer: Customer, email_before: str | None, phone_before: str | None) -> None:
    """Send `contact_changed` when the edit changed the email or phone (the former values, else None)."""
    email_moved = email_before != customer.email_normalized
    phone_moved = phone_before != customer.phone
    if email_moved or phone_moved:
        signals.contact_changed.send(
            customer,
            email_before=email_before if email_moved else None,
            phone_before=phone_before if phone_moved else None,
        )
