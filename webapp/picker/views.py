"""The calendar customer picker: search (top 10), pick, blacklist override, quick create and walk-in.

Every answer is a fragment for htmx and a whole page without JavaScript; picking puts the customer
into the embedding form as a hidden `customer_id` and fires the `customer-picked` event.
"""

import json

from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from webapp.customers import services
from webapp.edge import customer_or_404, owned
from webapp.errors import Invalid, PossibleDuplicate
from webapp.extensions import db
from webapp.htmx import page_or_block, wants_fragment
from webapp.models import Customer
from webapp.picker import bp
from webapp.picker.services import granted_override, override_blacklist, pickable
from webapp.search import search_customers
from webapp.search.criteria import Criteria, clean_query
from webapp.security import role_required

TOP = 10
QUICK_FIELDS = ("first_name", "last_name", "email", "phone")


def search_picker(q_args) -> tuple:
    """The criteria and the best `TOP` matches (no count: the picker shows the top only)."""
    criteria = Criteria(q=clean_query(q_args.get("q")), limit=TOP)
    results = search_customers(g.business, criteria.q, limit=TOP, with_count=False) if criteria.q else None
    return criteria, results


@bp.get("/picker")
def index():
    """Search for the customer to book: the whole picker, or only its options while typing; with
    `customer=<id>` (a form coming back with its choice) the picker opens on that customer."""
    chosen = chosen_customer(request.args.get("customer"))
    if chosen is not None:
        override_id = granted_override(chosen, request.args.get("override", type=int))
        if chosen.restriction == "block" and override_id is None:
            return render("picker", customer=chosen, mode="blocked")
        return render("picker", customer=chosen, override_id=override_id, mode="picked")
    criteria, results = search_picker(request.args)
    block = "options" if request.headers.get("HX-Target") == "picker-results" else "picker"
    return render(block, c=criteria, results=results, mode="search")


@bp.get("/picker/choose/<uuid:customer_id>")
def choose(customer_id):
    """Pick a customer; a blacklisted one shows the block (and, to managers, the override) instead."""
    customer = live_customer(customer_id)
    if customer.restriction == "block":
        return render("picker", customer=customer, mode="blocked")
    if not wants_fragment() and booking_page():
        return redirect(url_for("bookings.new", customer=customer.id), 303)
    return picked(customer)


@bp.post("/picker/override/<uuid:customer_id>")
@role_required("manager")
def override(customer_id):
    """A manager lets a blacklisted customer be booked this once, saying why (audited)."""
    customer = live_customer(customer_id)
    try:
        event = override_blacklist(customer, current_user, request.form.get("override_reason"))
    except Invalid as e:
        return render("picker", 422, customer=customer, mode="blocked", error=e.message)
    db.session.commit()
    if not wants_fragment() and booking_page():
        return redirect(url_for("bookings.new", customer=customer.id, override=event.id), 303)
    return picked(customer, override_id=event.id)


@bp.post("/picker/walk-in")
def walk_in():
    """Create a walk-in placeholder and pick it, without leaving the page."""
    customer = services.create_walk_in(g.business, current_user, None)
    db.session.commit()
    if not wants_fragment() and booking_page():
        return redirect(url_for("bookings.new", customer=customer.id), 303)
    return picked(customer, status=201)


@bp.route("/picker/new", methods=["GET", "POST"])
def quick_create():
    """Quick create: a first name plus an email or phone, checked by the customer service's rules."""
    data = {f: (request.form.get(f) or "").strip() for f in QUICK_FIELDS}
    if request.method == "GET":
        return render("quick", data=data, errors={}, mode="quick")
    errors: dict[str, str] = {}
    similar = []
    try:
        customer = services.create_customer(
            g.business, current_user, data, allow_similar=bool(request.form.get("allow_similar"))
        )
    except (Invalid, PossibleDuplicate) as e:
        db.session.rollback()
        errors = quick_errors(e)
        similar = e.similar if isinstance(e, PossibleDuplicate) else []
    else:
        db.session.commit()
        if not wants_fragment() and booking_page():
            return redirect(url_for("bookings.new", customer=customer.id), 303)
        return picked(customer, status=201)
    headers = {"HX-Retarget": "#picker-extra", "HX-Reswap": "innerHTML"} if wants_fragment() else {}
    return render(
        "quick",
        422,
        headers,
        data=data,
        errors=errors,
        similar=similar,
        mode="quick",
    )


def render(block: str, status: int = 200, headers: dict | None = None, **ctx):
    """The picker template: `block` for htmx, the standalone page (with its own forms) otherwise."""
    ctx.setdefault("c", None)
    standalone = not wants_fragment()
    return page_or_block("picker/index.html", block, status, headers, standalone=standalone, **ctx)


def picked(customer: Customer, override_id=None, status: int = 200):
    """The chosen state: the hidden `customer_id` for the embedding form, and a `customer-picked` event."""
    trigger = {"customer-picked": {"id": str(customer.id), "name": customer.display_name}}
    return render(
        "picker",
        status,
        {"HX-Trigger": json.dumps(trigger)},
        customer=customer,
        override_id=override_id,
        mode="picked",
    )


def quick_errors(error: Invalid | PossibleDuplicate) -> dict[str, str]:
    """The quick form's messages: each problem on its field, the rest (a possible duplicate) above it."""
    if isinstance(error, PossibleDuplicate):
        return {"_form": error.message}
    errors: dict[str, str] = {}
    for field, message in error.problems.items():
        errors.setdefault(field if field in QUICK_FIELDS else "_form", message)
    return errors


def chosen_customer(raw: str | None) -> Customer | None:
    """The customer a form already chose (by id), when it is a pickable one of this business."""
    return pickable(owned(Customer, raw)) if raw else None


def live_customer(customer_id) -> Customer:
    """A customer of this business that is not merged away, or 404."""
    customer = pickable(customer_or_404(customer_id))
    if customer is None:
        abort(404)
    return customer


def booking_page() -> bool:
    """True once the bookings feature provides the new-booking form (it embeds the picker)."""
    from flask import current_app

    return "bookings.new" in current_app.view_functions
