"""Glue between the customer form and the services: building the form, reading it, showing errors."""

import uuid

from flask import g, request
from markupsafe import Markup
from sqlalchemy import select

from webapp.customers import services
from webapp.customers.forms import CustomerForm, consent_answers
from webapp.edge import customer_link, show_errors
from webapp.errors import ContactTaken, DomainError, Invalid, PossibleDuplicate
from webapp.extensions import db
from webapp.formatting import phone_format
from webapp.models import Customer, Location, MarketingPreference, Tag

FULL_FIELDS = services.FIELDS + ("tag_ids", "location_ids")
WALK_IN_FIELDS = ("first_name", "last_name", "phone", "email", "notes")
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "date_of_birth": "Date of birth",
    "company": "Company",
    "address": "Address",
    "notes": "Notes",
    "source": "Source",
    "custom_field_value": "Reference",
    "tags": "Tags",
    "locations": "Locations",
    "is_dummy": "Placeholder",
    "dummy_label": "Placeholder label",
}


def build_form(customer: Customer | None = None, **kwargs) -> CustomerForm:
    """The customer form with this business's tags, locations and marketing preferences."""
    bid = g.business.id
    tags = db.session.scalars(select(Tag).where(Tag.business_id == bid).order_by(Tag.name)).all()
    locations = db.session.scalars(
        select(Location).where(Location.business_id == bid, Location.active).order_by(Location.name)
    ).all()
    if customer is not None:  # keep an inactive location the customer already has
        locations = sorted({*locations, *customer.locations}, key=lambda loc: loc.name.casefold())
    prefs = db.session.scalars(
        select(MarketingPreference)
        .where(MarketingPreference.business_id == bid, MarketingPreference.active)
        .order_by(MarketingPreference.name)
    ).all()
    form = CustomerForm(obj=customer, tags=tags, locations=locations, preferences=prefs, **kwargs)
    current = {c.preference_id: c.opted_in for c in customer.consents} if customer is not None else {}
    form.consents = form.consent_fields(request.form if request.method == "POST" else None, current)
    if customer is not None and request.method == "GET":
        form.version.data = customer.version
        form.phone.data = phone_format(customer.phone)  # as people read it; saved again as E.164
    if customer is None and not form.form_token.data:
        form.form_token.data = uuid.uuid4().hex
    return form


def form_data(form: CustomerForm, fields) -> dict:
    """The service's data dict from a validated form."""
    data = form.values(fields)
    data["consents"] = consent_answers(form.consents)
    return data


def taken_message(field: str, owner: Customer) -> Markup:
    """A taken email or phone's message, naming and linking the customer who has it."""
    what = "email" if field == "email" else "phone number"
    return Markup("{} already has this {}. Open their record instead, or use another {}.").format(
        customer_link(owner), what, what
    )


def show_customer_errors(form: CustomerForm, error: DomainError) -> None:
    """`edge.show_errors` for the customer form: a taken contact links its owner, and a possible
    duplicate is left to the "Possible duplicate" panel (with its "Create anyway" button)."""
    if isinstance(error, PossibleDuplicate):
        return
    if isinstance(error, ContactTaken):
        error = Invalid(
            {
                field: taken_message(field, error.owners[field]) if field in error.owners else message
                for field, message in error.problems.items()
            }
        )
    show_errors(form, error)


def stale_differences(current: dict, mine: dict, form: CustomerForm) -> list[tuple[str, object, object]]:
    """(label, saved now, what this receptionist typed) for each field where they differ."""
    rows = []
    for key, saved in current.items():
        field = {"tags": "tag_ids", "locations": "location_ids"}.get(key, key)
        if field not in mine:
            continue
        typed = mine[field]
        if key in ("tags", "locations"):
            names = {value: label for value, label, _ in form[field].choices}
            typed_names = sorted((names.get(i, str(i)) for i in typed or []), key=str.casefold)
            if sorted(saved, key=str.casefold) != typed_names:
                rows.append((LABELS[key], ", ".join(saved) or "none", ", ".join(typed_names) or "none"))
            continue
        typed_text = typed.isoformat() if hasattr(typed, "isoformat") else (typed or "")
        if key == "phone":
            try:
                typed_text = services.normalize_phone(typed_text, g.business.phone_region) or ""
            except Invalid:
                pass
        if (saved or "") != typed_text:
            rows.append((LABELS.get(key, key), saved or "", typed_text))
    return rows


def is_walk_in_request() -> bool:
    """True for `/customers/new?walk_in=1` (and its form post)."""
    return request.args.get("walk_in") in ("1", "true", "yes")
