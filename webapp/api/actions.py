"""`POST /customers/upsert` (the CRM's find-or-create) and `PUT /customers/transfer` (the booking system's
transfer, done by the merge service, so the screens' merge history can undo it)."""

from flask import g, url_for

from webapp.api import action_schemas as schemas
from webapp.api.conventions import acting_user, answer, check_if_match, etag
from webapp.api.customer_io import new_customer_data, representation, service_data, tags_named
from webapp.api.customers import ETAG_HEADER, load
from webapp.api.idempotency import idempotent
from webapp.api.registry import BadInput, operation
from webapp.customers import services
from webapp.customers.fields import check_email
from webapp.errors import ContactTaken, Invalid
from webapp.extensions import db
from webapp.merge.services import merge_customers
from webapp.models import Business, Customer
from webapp.phones import normalize_phone


def contact_owner(business: Business, body: schemas.Upsert) -> Customer | None:
    """The customer the body's normalized email or phone belongs to; 409 naming both when they point at
    two different customers, 422 for an email or phone that is not one."""
    email = check_email(body.email) if body.email else None
    phone = normalize_phone(body.phone, business.phone_region) if body.phone else None
    by_email = (
        services.find_contact_owner(business.id, email=services.normalize_email(email)) if email else None
    )
    by_phone = services.find_contact_owner(business.id, phone=phone) if phone else None
    if by_email is not None and by_phone is not None and by_email.id != by_phone.id:
        raise ContactTaken(
            {
                "email": f"This email is {by_email.display_name}'s ({by_email.id}).",
                "phone": f"This phone is {by_phone.display_name}'s ({by_phone.id}).",
            },
            {"email": by_email, "phone": by_phone},
        )
    return by_email or by_phone


def upsert_data(business: Business, body: schemas.Upsert, actor, found: Customer | None) -> dict:
    """The services' data: the given fields, `added_tags` joined to the tags (the found customer's, or
    `tags`), `location_id` joined to the locations."""
    data = service_data(business, body, actor)
    if body.added_tags:
        base = set(data["tag_ids"]) if "tag_ids" in data else {t.id for t in (found.tags if found else [])}
        data["tag_ids"] = sorted(base | {t.id for t in tags_named(business, body.added_tags, actor)})
    if body.location_id is not None:
        base = data.get("location_ids", [loc.id for loc in (found.locations if found else [])])
        data["location_ids"] = sorted({*base, body.location_id})
    return data


def upserted(customer_id, created: bool):
    """The upsert's answer: 201 and Location for a new customer, 200 for a found one."""
    customer = load(customer_id)
    headers = {"ETag": etag(customer.version)}
    if created:
        headers["Location"] = url_for("api.get_customer", customer_id=customer.id)
    result = schemas.UpsertResult(created=created, customer=representation(customer))
    return answer(result, 201 if created else 200, headers)


@operation(
    "POST",
    "/customers/upsert",
    summary="Find a customer by email or phone, else create one",
    access="desk",
    body=schemas.Upsert,
    response=schemas.UpsertResult,
    status=201,
    also=(200,),
    errors=(400, 409, 415, 422),
    headers={**ETAG_HEADER, "Location": "The new customer's URL (201 only)."},
)
@idempotent
def upsert_customer(body: schemas.Upsert):
    """As the CRM does it: the customer whose normalized email or E.164 phone is the body's is found
    (200, `created: false`) and updated with the fields given, unless `do_not_update`; `tags` replaces
    the tags, `added_tags` adds to them. Nobody found: created (201 + Location, `created: true`). An email
    and a phone of two different customers: 409 naming both in `owners`."""
    actor = acting_user()
    found = contact_owner(g.business, body)
    if found is None:
        data = new_customer_data(upsert_data(g.business, body, actor, None))
        customer = services.create_customer(g.business, actor, data, allow_similar=True)
        db.session.flush()
        return upserted(customer.id, True)
    if not body.do_not_update:
        data = upsert_data(g.business, body, actor, found)
        services.update_customer(found, actor, data, expected_version=found.version)
        db.session.flush()
        db.session.expire(found)
    return upserted(found.id, False)


@operation(
    "PUT",
    "/customers/transfer",
    summary="Transfer everything of one customer to another",
    access="manager",
    body=schemas.Transfer,
    response=schemas.Transferred,
    errors=(400, 404, 409, 412, 415, 422),
)
def transfer_customer(body: schemas.Transfer):
    """Every booking, sale, point, card and ledger entry of `source_id` moves to `target_id`, with the
    counters recounted; the source is left as a pointer to the target (merged away) and the target keeps
    its values, taking the source's where its own are empty. Done by the screens' merge, so a manager can
    undo it from the target's history. `If-Match` guards the target's version. Another business's id:
    404; source and target the same: 422."""
    if body.source_id == body.target_id:
        raise BadInput({"target_id": ["The target must be another customer than the source."]})
    source, target = load(body.source_id), load(body.target_id)
    check_if_match(target.version)
    try:
        event = merge_customers(source, target, None, acting_user(), business_id=g.business.id)
    except Invalid as e:
        raise Invalid({("source_id" if e.field is None else e.field): e.message}) from None
    db.session.flush()
    moved = {kind: len(ids) for kind, ids in event.changes.get("moved", {}).items()}
    target = load(body.target_id)
    result = schemas.Transferred(
        source_id=body.source_id,
        target_id=body.target_id,
        merge_event_id=event.id,
        moved=moved,
        points_moved=int(event.changes.get("points") or 0),
        target=representation(target),
    )
    return answer(result, 200, {"ETag": etag(target.version)})
