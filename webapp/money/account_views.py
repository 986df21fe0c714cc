"""Money screens of a customer's accounts: redeem and adjust points, the store-credit ledger, payments
received and a manager's ledger adjustment. Forms behave as in webapp/money/views.py (`run_form`)."""

from flask import g, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from webapp import edge
from webapp.errors import Invalid
from webapp.formatting import money
from webapp.htmx import page_or_block
from webapp.money import bp, ledger, points, sales
from webapp.money.amounts import as_typed
from webapp.money.forms import LedgerAdjustForm, PaymentForm, PointsAdjustForm, RedeemForm
from webapp.money.views import customer_or_404, run_form, survivor_redirect, typed_amount
from webapp.security import role_required
from webapp.text import counted

HISTORY = 20
SALE_CHOICES = 20


# --- points ----------------------------------------------------------------------------------------


@bp.route("/customers/<uuid:customer_id>/points/redeem", methods=["GET", "POST"])
@role_required("receptionist")
def redeem(customer_id):
    """Redeem points for a discount (field "Points"), optionally against one of the recent sales."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.redeem"):
        return moved
    form = RedeemForm()
    recent = [s for s in sales.sales_of(customer, limit=SALE_CHOICES) if s.reversal is None]
    form.sale_id.choices = [SelectChoice("", "No particular sale")] + [
        SelectChoice(str(s.id), f"{s.receipt_number} · {money(s.total)}") for s in recent
    ]

    def act() -> str:
        sale = None
        if form.sale_id.data:
            sale = sales.sale_for(customer.business_id, form.sale_id.data)
            if sale is None:
                raise Invalid("sale_id", "Choose one of this customer's sales, or none.")
        result = points.redeem_points(
            customer, points=points.parse_points(form.points.data), actor=current_user, sale=sale
        )
        return (
            f"{counted(result.redeemed, 'point')} redeemed: take {money(result.discount_amount)} off. "
            f"{counted(result.remaining_points, 'point')} left."
        )

    return run_form(
        form,
        act,
        lambda: edge.customer_url(customer),
        lambda status: page_or_block(
            "money/redeem_form.html",
            "form",
            status,
            customer=customer,
            form=form,
            history=points.points_history(customer, limit=HISTORY),
        ),
    )


@bp.route("/customers/<uuid:customer_id>/points/adjust", methods=["GET", "POST"])
@role_required("manager")
def adjust_points(customer_id):
    """A manager adds or takes away points, with a reason."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.adjust_points"):
        return moved
    form = PointsAdjustForm()

    def act() -> str:
        row = points.adjust_points(
            customer,
            points=points.parse_points(form.points.data, signed=True),
            reason=form.reason.data,
            actor=current_user,
        )
        return f"Points adjusted by {row.points:+,}: {counted(row.balance_after, 'point')} now."

    return run_form(
        form,
        act,
        lambda: edge.customer_url(customer),
        lambda status: page_or_block(
            "money/points_adjust_form.html",
            "form",
            status,
            customer=customer,
            form=form,
            history=points.points_history(customer, limit=HISTORY),
        ),
    )


# --- the store-credit ledger -----------------------------------------------------------------------


@bp.get("/customers/<uuid:customer_id>/ledger")
@role_required("receptionist")
def ledger_page(customer_id):
    """The customer's store-credit entries with the balance after each, in a date range (from/to)."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.ledger_page", **request.args):
        return moved
    problems = {}
    days = {}
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        days[name] = edge.day_arg(raw) if raw else None
        if raw and days[name] is None:
            problems[name] = "Give the date as YYYY-MM-DD, between 1900 and 2200."
    if days["from"] and days["to"] and days["from"] > days["to"]:
        problems["to"] = "The end of the range is before its start."
        days["to"] = None
    entries = ledger.ledger_entries(customer, start=days["from"], end=days["to"])
    return page_or_block(
        "money/ledger.html",
        "entries",
        customer=customer,
        entries=entries,
        start=request.args.get("from", ""),
        end=request.args.get("to", ""),
        problems=problems,
    )


@bp.route("/customers/<uuid:customer_id>/ledger/payment", methods=["GET", "POST"])
@role_required("receptionist")
def payment(customer_id):
    """A payment received on the customer's account (field "Amount")."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.payment"):
        return moved
    form = PaymentForm()
    if request.method == "GET" and customer.ledger_balance < 0:
        form.amount.data = as_typed(-customer.ledger_balance, g.business.currency)

    def act() -> str:
        entry = ledger.record_payment(
            customer,
            amount=typed_amount(form.amount.data, "amount"),
            actor=current_user,
            reference=form.reference.data or "",
        )
        return f"Payment of {money(entry.amount)} recorded. {balance_words(entry.balance_after)}"

    return run_form(
        form,
        act,
        lambda: url_for("money.ledger_page", customer_id=customer.id),
        lambda status: page_or_block("money/payment_form.html", "form", status, customer=customer, form=form),
    )


@bp.route("/customers/<uuid:customer_id>/ledger/adjust", methods=["GET", "POST"])
@role_required("manager")
def adjust_ledger(customer_id):
    """A manager credits (positive) or debits (negative) the account, with a reason."""
    customer = customer_or_404(customer_id)
    if moved := survivor_redirect(customer, "money.adjust_ledger"):
        return moved
    form = LedgerAdjustForm()

    def act() -> str:
        entry = ledger.adjust_ledger(
            customer,
            amount=typed_amount(form.amount.data, "amount", allow_negative=True),
            reason=form.reason.data,
            actor=current_user,
        )
        verb = "credited" if entry.type == "credit" else "debited"
        return f"Account {verb} {money(entry.amount)}. {balance_words(entry.balance_after)}"

    return run_form(
        form,
        act,
        lambda: url_for("money.ledger_page", customer_id=customer.id),
        lambda status: page_or_block(
            "money/ledger_adjust_form.html", "form", status, customer=customer, form=form
        ),
    )


def balance_words(balance: int) -> str:
    """ "Owes £20.00.", "In credit £5.00." or "Nothing owed." for a flash."""
    if balance < 0:
        return f"Owes {money(-balance)}."
    return f"In credit {money(balance)}." if balance else "Nothing owed."
