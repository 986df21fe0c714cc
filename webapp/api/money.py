"""`POST /sales`, `GET /customers/{id}/sales`, `GET /customers/{id}/ledger` and
`POST /customers/{id}/loyalty/redeem`, by webapp/money's services (every rule stays there).

Ids: the customer a request is about (the path's, or a sale's `customer_id`) is 404 when the business
does not have it; an id in a body that names something else to use (`booking_id`, `sale_id`,
`program_id`) is 422 on that field when it is not one this customer can use (another business's
included), as any other value the request cannot have."""

from flask import g
from sqlalchemy import func, select

from webapp.api import money_schemas as ms
from webapp.api.conventions import acting_user, answer
from webapp.api.idempotency import idempotent
from webapp.api.registry import operation
from webapp.api.schemas import Pagination
from webapp.edge import customer_or_404, owned
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Booking, Sale
from webapp.money import ledger, points, sales

STATUS = {None: "completed", "void": "voided", "refund": "refunded"}


def money_actor():
    """Who acts, as the money and loyalty services take it: the API key itself (their audit events name
    it), else the signed-in staff member."""
    key = g.get("api_key")
    return key if key is not None else acting_user()


def page_of(items: list, page: int, limit: int) -> tuple[list, Pagination]:
    """One page of a list read whole (a customer's cards or ledger range), with its pagination."""
    start = (page - 1) * limit
    return items[start : start + limit], Pagination(
        page=page, limit=limit, total=len(items), total_exact=True, has_more=start + limit < len(items)
    )


def sale_fields(sale: Sale, reversal_kind: str | None) -> ms.Sale:
    """A sale as the API shows it (`reversal_kind`: its reversal's kind, None when it stands)."""
    return ms.Sale(
        id=sale.id,
        customer_id=sale.customer_id,
        receipt_number=sale.receipt_number,
        total=sale.total,
        on_account=sale.on_account,
        booking_id=sale.booking_id,
        points_earned=sale.points_earned,
        status=STATUS[reversal_kind],
        created_at=sale.created_at,
    )


@operation(
    "POST",
    "/sales",
    summary="Record a sale",
    access="desk",
    tag="sales",
    body=ms.SaleWrite,
    response=ms.Sale,
    status=201,
    errors=(404, 415, 422),
)
@idempotent
def record_sale(body: ms.SaleWrite):
    """A sale of `total` minor units to `customer_id` (another business's customer: 404): it earns points
    at the business's rate, and `on_account` debits the customer's store-credit ledger. The receipt
    number is generated (REC-YYYYMMDD-NNN, the business's day) unless given; one already used is 422 on
    `receipt_number`. `booking_id` must be one of the customer's bookings without a sale (else 422 on it).
    An anonymized customer takes no sales (422 on `total`)."""
    customer = customer_or_404(body.customer_id)
    booking = None
    if body.booking_id is not None:
        booking = owned(Booking, body.booking_id)
        if booking is None:
            raise Invalid("booking_id", "No such booking here: use one of this customer's bookings.")
    sale = sales.record_sale(
        customer,
        total=body.total,
        actor=money_actor(),
        receipt_number=body.receipt_number,
        on_account=body.on_account,
        booking=booking,
    )
    db.session.flush()
    return answer(sale_fields(sale, None), 201)


@operation(
    "GET",
    "/customers/<uuid:customer_id>/sales",
    summary="A customer's sales",
    tag="sales",
    query=ms.PageQuery,
    response=ms.SaleList,
    errors=(404, 422),
)
def list_sales(customer_id, query: ms.PageQuery):
    """The customer's purchases, newest first; a voided or refunded sale says so in `status`."""
    customer = customer_or_404(customer_id)
    found = sales.sales_of(customer, limit=query.limit, offset=(query.page - 1) * query.limit)
    total = db.session.scalar(
        select(func.count())
        .select_from(Sale)
        .where(Sale.business_id == customer.business_id, Sale.customer_id == customer.id)
    )
    page = ms.SaleList(
        data=[sale_fields(s, s.reversal.kind if s.reversal is not None else None) for s in found],
        pagination=Pagination(
            page=query.page,
            limit=query.limit,
            total=total,
            total_exact=True,
            has_more=query.page * query.limit < total,
        ),
    )
    return answer(page)


@operation(
    "GET",
    "/customers/<uuid:customer_id>/ledger",
    summary="A customer's store-credit ledger",
    tag="sales",
    query=ms.LedgerQuery,
    response=ms.Ledger,
    errors=(404, 422),
)
def customer_ledger(customer_id, query: ms.LedgerQuery):
    """Store-credit entries, oldest first, each with the balance after it (negative: the customer owes);
    `from` and `to` (YYYY-MM-DD, inclusive, the business's days) narrow them; `balance` is the balance now."""
    customer = customer_or_404(customer_id)
    entries = ledger.ledger_entries(customer, start=query.from_, end=query.to)
    shown, pagination = page_of(entries, query.page, query.limit)
    page = ms.Ledger(
        data=[
            ms.LedgerEntry(
                id=e.id,
                type=e.type,
                amount=e.amount,
                balance_after=e.balance_after,
                description=e.description,
                reference_id=e.reference_id,
                created_at=e.created_at,
            )
            for e in shown
        ],
        pagination=pagination,
        balance=customer.ledger_balance,
    )
    return answer(page)


@operation(
    "POST",
    "/customers/<uuid:customer_id>/loyalty/redeem",
    summary="Redeem loyalty points for a discount",
    access="desk",
    tag="sales",
    body=ms.Redeem,
    response=ms.Redemption,
    errors=(404, 415, 422),
)
@idempotent
def redeem_points(customer_id, body: ms.Redeem):
    """Spend `points` (no more than the customer holds: else 422 on `points`) for a discount worth the
    business's point value each; `sale_id`, when given, must be one of this customer's sales (else 422
    on `sale_id`)."""
    customer = customer_or_404(customer_id)
    sale = None
    if body.sale_id is not None:
        sale = sales.sale_for(g.business.id, body.sale_id)
        if sale is None:  # another customer's sale the service refuses itself, on the same field
            raise Invalid("sale_id", "No such sale here: use one of this customer's sales.")
    done = points.redeem_points(customer, points=body.points, actor=money_actor(), sale=sale)
    db.session.flush()
    return answer(
        ms.Redemption(
            redeemed=done.redeemed,
            discount_amount=done.discount_amount,
            remaining_points=done.remaining_points,
        )
    )
