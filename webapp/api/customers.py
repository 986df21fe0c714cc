"""`/api/v1/merchant/customers`: list, create, read, update and delete, through the screens' services."""

from flask import g, url_for
from sqlalchemy.orm import selectinload

from webapp.api import schemas
from webapp.api.cards import enrol_new_customer, program_to_enrol
from webapp.api.conventions import Precondition, acting_user, answer, check_if_match, etag
from webapp.api.customer_io import (
    API_EXTRA_COLUMNS,
    filters,
    new_customer_data,
    represent_rows,
    representation,
    representations,
    service_data,
)
from webapp.api.idempotency import idempotent
from webapp.api.registry import BadInput, operation
from webapp.customers import services
from webapp.edge import customer_or_404
from webapp.errors import Conflict
from webapp.extensions import db
from webapp.models import Customer
from webapp.models.customer import LEAN
from webapp.search import search_customers

FULL = (selectinload(Customer.tags), selectinload(Customer.locations), selectinload(Customer.consents))
ETAG_HEADER = {"ETag": "The customer's version, quoted: send it back in If-Match."}


def load(customer_id) -> Customer:
    """The business's customer with its tags, locations and consents, or 404."""
    return customer_or_404(customer_id, options=FULL)


def one(customer: Customer, status: int = 200, headers: dict | None = None):
    """A customer answer with its ETag."""
    return answer(representation(customer), status, {"ETag": etag(customer.version), **(headers or {})})


@operation(
    "GET",
    "/customers",
    summary="List or search customers",
    query=schemas.CustomerQuery,
    response=schemas.CustomerList,
    errors=(422,),
)
def list_customers(query: schemas.CustomerQuery):
    """Every filter of the restaurant API by its name, `query`/`search`/`q` over name, email, phone digits
    and company, `sort` (`-` for descending), `page` and `limit` (1–100, default 30)."""
    results = search_customers(
        g.business,
        query.query or "",
        filters(g.business, query),
        query.sort,
        query.page,
        query.limit,
        columns=API_EXTRA_COLUMNS,
    )
    page = schemas.CustomerList(
        data=represent_rows(g.business.id, results.customers, results.tags),
        pagination=schemas.Pagination(
            page=results.page,
            limit=results.limit,
            total=results.count,
            total_exact=not results.capped,
            has_more=results.has_next,
        ),
    )
    return answer(page)


@operation(
    "POST",
    "/customers",
    summary="Create a customer",
    access="desk",
    body=schemas.CustomerWrite,
    response=schemas.Customer,
    status=201,
    errors=(400, 409, 415, 422),
    headers={**ETAG_HEADER, "Location": "The new customer's URL."},
)
@idempotent
def create_customer(body: schemas.CustomerWrite):
    """A full customer: a first name (or `name`) and an email or a phone; a taken email or phone is 409
    naming its owner. Similar names are not held back (the desk's duplicate finder sees them). The source
    is "api" unless `source` says otherwise. `card_id` enrols the customer in that stamp-card program
    (welcome stamps applied at once; not one of the business's active programs: 422 on it), and
    `send_card_links` then emails the card's link (the customer needs an email)."""
    actor = acting_user()
    program = program_to_enrol(body.card_id, body.send_card_links)
    data = new_customer_data(service_data(g.business, body, actor))
    customer = services.create_customer(g.business, actor, data, allow_similar=True)
    db.session.flush()
    if program is not None:
        enrol_new_customer(customer, program, send_link=body.send_card_links)
    customer = load(customer.id)
    location = url_for("api.get_customer", customer_id=customer.id)
    return one(customer, 201, {"Location": location})


@operation(
    "GET",
    "/customers/<uuid:customer_id>",
    summary="Get a customer",
    response=schemas.Customer,
    errors=(404,),
    headers=ETAG_HEADER,
)
def get_customer(customer_id):
    """The customer, with its version as ETag: read as a list row is (its row, then one statement for
    its locations, consents and cards), not as a record with a load per relationship."""
    customer = customer_or_404(customer_id, options=LEAN)
    (shown,) = representations(g.business.id, [customer.id])
    return answer(shown, 200, {"ETag": etag(customer.version)})


def update(customer_id, body: schemas.CustomerWrite):
    """Apply the given fields (tags replaced whole) on the version If-Match names (else the current one)."""
    customer = load(customer_id)
    if body.id is not None and body.id != customer.id:
        raise BadInput({"id": ["The body's id must be the path's id."]})
    guarded = check_if_match(customer.version)
    actor = acting_user()
    try:
        services.update_customer(
            customer, actor, service_data(g.business, body, actor), expected_version=customer.version
        )
    except Conflict:
        if guarded:
            raise Precondition(load(customer_id).version) from None
        raise
    db.session.flush()
    db.session.expire(customer)
    return one(load(customer_id))


UPDATE = dict(
    access="desk",
    body=schemas.CustomerWrite,
    response=schemas.Customer,
    errors=(400, 404, 409, 412, 415, 422),
    headers=ETAG_HEADER,
)


@operation("PUT", "/customers/<uuid:customer_id>", summary="Update a customer", **UPDATE)
def put_customer(customer_id, body: schemas.CustomerWrite):
    """Change the fields given (the source APIs' PUT is a partial update); an `id` must be the path's."""
    return update(customer_id, body)


@operation("PATCH", "/customers/<uuid:customer_id>", summary="Update some fields of a customer", **UPDATE)
def patch_customer(customer_id, body: schemas.CustomerWrite):
    """Change the fields given; tags, when given, are replaced whole."""
    return update(customer_id, body)


@operation(
    "DELETE",
    "/customers/<uuid:customer_id>",
    summary="Delete (or anonymize) a customer",
    access="desk",
    response=schemas.Removed,
    errors=(404, 412),
)
def delete_customer(customer_id):
    """Deleted when the customer has no history; anonymized (personal data wiped, bookings and totals
    kept) when it has."""
    customer = load(customer_id)
    check_if_match(customer.version)
    result = services.delete_or_anonymize(customer, acting_user())
    return answer(schemas.Removed(id=customer_id, result=result))
