"""Money screens: record a sale, the purchases list, void or refund, and the owner's loyalty settings.

Every form works as a plain POST (303 to the result with a flash, or 422 with the messages) and with
htmx (the form's block with its messages in place; on success an HX-Redirect to the result). Points
and store credit live in webapp/money/account_views.py.
"""

from collections.abc import Callable

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import exists, select
from wtforms import SelectChoice

from webapp import edge
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.formatting import datetime_format, money
from webapp.htmx import page_or_block, wants_fragment
from webapp.models import Booking, Customer, Sale
from webapp.models.customer import LEAN
from webapp.money import bp, loyalty_settings, sales
from webapp.money.amounts import as_typed, parse_amount
from webapp.money.forms import LoyaltyForm, ReverseForm, SaleForm
from webapp.security import role_required

SALES_PER_PAGE = 25
BOOKING_CHOICES = 20


# --- shared by every money form --------------------------------------------------------------------


def customer_or_404(customer_id) -> Customer:
    """A customer of the signed-in user's business (without its link rows), or 404."""
    return edge.customer_or_404(customer_id, options=LEAN)


def survivor_redirect(customer: Customer, endpoint: str, **values):
    """On a GET of a merged-away record, the same screen of the record it lives on now; else None."""
    if customer.merged_into_id and request.method == "GET":
        return redirect(url_for(endpoint, customer_id=customer.merged_into_id, **values), 303)
    return None


def finish(target: str):
    """After a successful form: a 303 to `target`, or for htmx an HX-Redirect (the flash shows there)."""
    if wants_fragment():
        return "", 200, {"HX-Redirect": target}
    return redirect(target, 303)


def run_form(form, action: Callable[[], str], target: Callable[[], str], render: Callable[[int], object]):
    """Validate `form`, run `action` (it returns the flash), commit and finish; or render the form
    again with its messages (422), nothing written."""
    if form.validate_on_submit():
        try:
            message = action()
        except Invalid as e:
            db.session.rollback()
            edge.show_errors(form, e)
        else:
            db.session.commit()
            flash(message, "success")
            return finish(target())
    return render(422 if form.errors else 200)


def typed_amount(text: str | None, field: str, **bounds) -> int:
    """An amount typed on a form, in the business's currency."""
    return parse_amount(text, field=field, currency=g.business.currency, **bounds)


# --- sales -----------------------------------------------------------------------------------------


def open_bookings(customer: Customer) -> list[Booking]:
    """The customer's bookings a sale may pay for: not cancelled, without a sale, latest first."""
    paid = exists().where(Sale.business_id == Booking.business_id, Sale.booking_id == Booking.id)
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.business_id == customer.business_id,
                Booking.customer_id == customer.id,
                Booking.status != "cancelled",
                ~paid,
            )
            .order_by(Booking.starts_at.desc())
            .limit(BOOKING_CHOICES)
        )
    )


def booking_label(booking: Booking) -> str:
    """ "Cut · 3 Dec 2026, 14:00 · £45.00 (completed)" for the booking choice."""
    parts = [booking.service or "Booking", datetime_format(booking.starts_at)]
    if booking.price:
        parts.append(money(booking.price))
    return " · ".join(parts) + (
        "" if booking.status == "booked" else f" ({booking.status.replace('_', '-')})"
    )


@bp.route("/customers/<uuid:customer_id>/sales/new", methods=["GET", "POST"])
@role_required("receptionist")
def new_sale(customer_id):
    """Record a sale: total, receipt number (generated unless typed), on account, an optional booking."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.new_sale"):
        return moved
    form = SaleForm()
    bookings = open_bookings(customer)
    form.booking_id.choices = [SelectChoice("", "No booking")] + [
        SelectChoice(str(b.id), booking_label(b)) for b in bookings
    ]
    if request.method == "GET" and (chosen := edge.owned(Booking, request.args.get("booking"))):
        form.booking_id.data = str(chosen.id)
        form.total.data = as_typed(chosen.price, g.business.currency) if chosen.price else ""
        form.description.data = chosen.service

    def record() -> str:
        booking = None
        if form.booking_id.data:
            booking = edge.owned(Booking, form.booking_id.data)
            if booking is None:
                raise Invalid("booking_id", "Choose one of this customer's bookings, or no booking.")
        sale = sales.record_sale(
            customer,
            total=typed_amount(form.total.data, "total"),
            actor=current_user,
            receipt_number=form.receipt_number.data,
            on_account=form.on_account.data,
            booking=booking,
            description=form.description.data or (booking.service if booking else ""),
        )
        earned = f", {sale.points_earned} points earned" if sale.points_earned else ""
        account = ", on account" if sale.on_account else ""
        return f"Sale {sale.receipt_number} of {money(sale.total)} recorded{account}{earned}."

    return run_form(
        form,
        record,
        lambda: edge.customer_url(customer),
        lambda status: page_or_block("money/sale_form.html", "form", status, customer=customer, form=form),
    )


@bp.get("/customers/<uuid:customer_id>/sales")
@role_required("receptionist")
def purchases(customer_id):
    """All the customer's purchases, newest first, with voided and refunded ones marked."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.purchases"):
        return moved
    page = edge.page_number(request.args.get("page"))
    rows = sales.sales_of(customer, limit=SALES_PER_PAGE + 1, offset=(page - 1) * SALES_PER_PAGE)
    return page_or_block(
        "money/sales.html",
        "results",
        customer=customer,
        sales=rows[:SALES_PER_PAGE],
        page=page,
        has_next=len(rows) > SALES_PER_PAGE,
    )


def sale_of_or_404(customer: Customer, sale_id) -> Sale:
    """The customer's sale with this id, or 404 (another customer's or business's sale too)."""
    sale = sales.sale_for(customer.business_id, sale_id)
    if sale is None or sale.customer_id != customer.id:
        abort(404)
    return sale


@bp.route("/customers/<uuid:customer_id>/sales/<uuid:sale_id>/reverse", methods=["GET", "POST"])
@role_required("manager")
def reverse(customer_id, sale_id):
    """Void or refund a sale, with a reason (a manager)."""
    customer = customer_or_404(customer_id)
    sale = sale_of_or_404(customer, sale_id)
    form = ReverseForm()

    def act() -> str:
        reversal = sales.reverse_sale(sale, kind=form.kind.data, reason=form.reason.data, actor=current_user)
        word = sales.KIND_WORDS[reversal.kind]
        return f"Sale {sale.receipt_number} of {money(sale.total)} {word}."

    return run_form(
        form,
        act,
        lambda: edge.customer_url(customer),
        lambda status: page_or_block(
            "money/reverse_form.html", "form", status, customer=customer, sale=sale, form=form
        ),
    )


# --- the owner's loyalty settings ------------------------------------------------------------------


@bp.route("/settings/loyalty", methods=["GET", "POST"])
@role_required("owner")
def loyalty():
    """The loyalty rate: points per whole currency unit spent and the value of a point."""
    business = g.business
    form = LoyaltyForm()
    if request.method == "GET":
        form.points_per_unit.data = str(business.points_per_unit)
        form.point_value.data = as_typed(business.point_value_minor, business.currency)

    def save() -> str:
        values = loyalty_settings.parse_loyalty(
            form.points_per_unit.data, form.point_value.data, business.currency
        )
        loyalty_settings.update_loyalty(business, actor=current_user, **values)
        return "Loyalty settings saved."

    return run_form(
        form,
        save,
        lambda: url_for("money.loyalty"),
        lambda status: page_or_block(
            "money/loyalty_settings.html", "form", status, form=form, business=business
        ),
    )
