"""Checking a customer's values before they are written: every field rule, taken contacts, look-alikes."""

from datetime import date

from sqlalchemy import and_, func, or_, select

from webapp.customers.rules import (
    check_birth_date,
    check_email,
    check_label,
    check_source,
    check_text,
    clean_text,
    fold,
    names_similar,
    normalize_email,
    normalize_phone,
)
from webapp.errors import RuleBroken
from webapp.extensions import db
from webapp.models import Business, Customer, Location, MarketingPreference, Tag

TEXT_FIELDS = ("first_name", "last_name", "company", "address", "notes", "custom_field_value")


def find_contact_owner(
    business_id: int, *, email: str | None = None, phone: str | None = None, exclude=None
) -> Customer | None:
    """The customer who already has this (normalized) email or E.164 phone, if any."""
    if email is None and phone is None:
        return None
    cond = Customer.email_normalized == email if email is not None else Customer.phone == phone
    stmt = select(Customer).where(Customer.business_id == business_id, cond)
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    return db.session.scalars(stmt.limit(1)).first()


def find_similar(
    business_id: int, first_name: str, last_name: str, dob: date | None, exclude=None
) -> list[Customer]:
    """Customers who may be the same person: a very similar name (accents and case aside) with the
    same birth date, or the same full name where one of the two has no birth date."""
    full = f"{clean_text(first_name)} {clean_text(last_name)}".strip()
    if not full:
        return []
    same_length = and_(
        func.length(Customer.first_name) == len(clean_text(first_name)),
        func.length(Customer.last_name) == len(clean_text(last_name)),
    )
    cond = or_(Customer.date_of_birth == dob, same_length) if dob else same_length
    # Plain columns first (no entity loading), then the few matches as customers.
    stmt = select(Customer.id, Customer.first_name, Customer.last_name, Customer.date_of_birth).where(
        Customer.business_id == business_id,
        Customer.merged_into_id.is_(None),
        Customer.anonymized_at.is_(None),
        cond,
    )
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    target = fold(full)
    ids = []
    for cid, first, last, born in db.session.execute(stmt):
        name = f"{first} {last}"
        if (dob and born == dob and names_similar(name, full)) or (
            (dob is None or born is None) and fold(name) == target
        ):
            ids.append(cid)
    if not ids:
        return []
    found = db.session.scalars(
        select(Customer).where(Customer.id.in_(ids[:50])).order_by(Customer.created_at)
    ).all()
    return found[:10]


# --- checking ------------------------------------------------------------------------------------


def owned_rows(model, business_id: int, ids, field: str, what: str) -> list:
    """Rows of `model` with these ids, all of this business, or RuleBroken on `field`."""
    try:
        wanted = {int(i) for i in ids or []}
    except (TypeError, ValueError):
        raise RuleBroken(field, f"Choose {what} from the list.") from None
    if not wanted:
        return []
    rows = db.session.scalars(
        select(model).where(model.business_id == business_id, model.id.in_(wanted))
    ).all()
    if len(rows) != len(wanted):
        raise RuleBroken(field, f"Choose {what} from the list; one of those does not exist (any more).")
    return sorted(rows, key=lambda r: r.name.casefold())


def check_customer(
    business: Business, data: dict, *, customer: Customer | None = None, full: bool = True
) -> dict:
    """Clean every given field and check every rule; returns the clean values, or raises RuleBroken
    for the first problem with all of them in `extra["problems"]` ({field: message}); a taken email or
    phone puts its owner in `extra["duplicates"]` ({field: customer}) and `extra["customer"]`."""
    clean: dict = {}
    problems: dict[str, str] = {}
    duplicates: dict[str, Customer] = {}

    def attempt(field, fn, *args):
        try:
            clean[field] = fn(*args)
        except RuleBroken as e:
            problems.setdefault(e.field or field, e.message)

    for f in TEXT_FIELDS:
        if f in data:
            attempt(f, check_text, f, data[f])
    if "email" in data:
        attempt("email", check_email, data["email"])
    if "phone" in data:
        attempt("phone", normalize_phone, data["phone"], business.phone_region)
    if "date_of_birth" in data:
        attempt("date_of_birth", check_birth_date, data["date_of_birth"], business)
    if "source" in data:
        attempt("source", check_source, data["source"])
    if "dummy_label" in data:
        attempt("dummy_label", check_label, data["dummy_label"])
    if "tag_ids" in data:
        attempt("tag_ids", owned_rows, Tag, business.id, data["tag_ids"], "tag_ids", "tags")
    if "location_ids" in data:
        attempt(
            "location_ids",
            owned_rows,
            Location,
            business.id,
            data["location_ids"],
            "location_ids",
            "locations",
        )
    if "consents" in data:
        attempt("consents", check_consents, business.id, data["consents"])

    exclude = customer.id if customer is not None else None
    if clean.get("email"):
        owner = find_contact_owner(business.id, email=normalize_email(clean["email"]), exclude=exclude)
        if owner is not None and "email" not in problems:
            duplicates["email"] = owner
            problems["email"] = f"{owner.display_name} already has this email."
    if clean.get("phone"):
        owner = find_contact_owner(business.id, phone=clean["phone"], exclude=exclude)
        if owner is not None and "phone" not in problems:
            duplicates["phone"] = owner
            problems["phone"] = f"{owner.display_name} already has this phone number."

    if full:

        def value(f):
            return clean[f] if f in clean else (getattr(customer, f) if customer is not None else None)

        if not value("first_name") and "first_name" not in problems:
            problems["first_name"] = "Give the customer's first name."
        if not value("email") and not value("phone") and "email" not in problems and "phone" not in problems:
            problems["email"] = "Give an email or a phone number (at least one)."
            problems.setdefault("phone", "Give a phone number or an email (at least one).")

    if problems:
        field, message = next(iter(problems.items()))
        extra = {"problems": problems, "duplicates": duplicates}
        if duplicates:
            extra["customer"] = duplicates.get(field) or next(iter(duplicates.values()))
        raise RuleBroken(field, message, **extra)
    return clean


def check_consents(business_id: int, consents: dict | None) -> dict:
    """{preference: bool or None} for preferences of this business."""
    consents = consents or {}
    prefs = owned_rows(MarketingPreference, business_id, consents.keys(), "consents", "marketing preferences")
    by_id = {p.id: p for p in prefs}
    out = {}
    for key, answer in consents.items():
        if answer is not None and not isinstance(answer, bool):
            raise RuleBroken("consents", "Answer each marketing preference with yes or no.")
        out[by_id[int(key)]] = answer
    return out
