"""`PUT`/`DELETE /customers/{id}/blacklist` and `GET /customers/blacklist`, by webapp/blacklist/services."""

from flask import g
from sqlalchemy import func, select

from webapp.api import action_schemas, schemas
from webapp.api.conventions import acting_user, answer, check_if_match
from webapp.api.customer_io import representations
from webapp.api.customers import ETAG_HEADER, load, one
from webapp.api.registry import BadInput, operation
from webapp.blacklist import services
from webapp.extensions import db
from webapp.models import Customer

RESTRICT = dict(
    access="manager", response=schemas.Customer, errors=(400, 404, 412, 415, 422), headers=ETAG_HEADER
)


@operation(
    "PUT",
    "/customers/<uuid:customer_id>/blacklist",
    summary="Blacklist a customer (or change the restriction)",
    body=action_schemas.BlacklistPut,
    **RESTRICT,
)
def put_blacklist(customer_id, body: action_schemas.BlacklistPut):
    """`reason` (alias blacklist_reason) is required; `level` block (refused at booking) or warn (shown
    to staff); `expires_on` a future day, or none until lifted. An `id` in the body must be the path's."""
    customer = load(customer_id)
    if body.id is not None and body.id != customer.id:
        raise BadInput({"id": ["The body's id must be the path's id."]})
    check_if_match(customer.version)
    services.blacklist(customer, acting_user(), body.reason, body.level, body.expires_on)
    db.session.flush()
    db.session.expire(customer)
    return one(load(customer_id))


@operation(
    "DELETE",
    "/customers/<uuid:customer_id>/blacklist",
    summary="Lift a customer's restriction",
    query=action_schemas.BlacklistLiftQuery,
    body=action_schemas.BlacklistLift,
    body_required=False,
    **RESTRICT,
)
def delete_blacklist(customer_id, query, body):
    """A `reason` is required, in a JSON body or as `?reason=`; a customer who is not blacklisted: 422."""
    customer = load(customer_id)
    check_if_match(customer.version)
    reason = (body.reason if body is not None else None) or query.reason
    services.unblacklist(customer, acting_user(), reason or "")
    db.session.flush()
    db.session.expire(customer)
    return one(load(customer_id))


@operation(
    "GET",
    "/customers/blacklist",
    summary="Blacklisted customers",
    access="manager",
    query=action_schemas.BlacklistQuery,
    response=schemas.CustomerList,
    errors=(422,),
)
def blacklisted_customers(query: action_schemas.BlacklistQuery):
    """Live restrictions (both levels, or `level`), most recent first; `level=lapsed` for expired ones."""
    where = [services.live_customers(g.business.id)]
    if query.level == "lapsed":
        where += [Customer.blacklisted_at.is_not(None), ~services.active_restriction_clause()]
    else:
        where.append(services.active_restriction_clause())
        if query.level:
            where.append(Customer.blacklist_level == query.level)
    total = db.session.scalar(select(func.count()).select_from(Customer).where(*where))
    ids = db.session.scalars(
        select(Customer.id)
        .where(*where)
        .order_by(Customer.blacklisted_at.desc(), Customer.id)
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
    ).all()
    page = schemas.CustomerList(
        data=representations(g.business.id, ids),
        pagination=schemas.Pagination(
            page=query.page,
            limit=query.limit,
            total=total,
            total_exact=True,
            has_more=query.page * query.limit < total,
        ),
    )
    return answer(page)
