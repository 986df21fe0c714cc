"""Blacklist screens: restrict or lift on one customer, the list of restrictions, reviews."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from webapp import edge
from webapp.blacklist import bp, services
from webapp.blacklist.forms import BlacklistForm, LiftForm, ReviewForm
from webapp.blacklist.history import staff_names
from webapp.edge import customer_url
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.htmx import page_or_block
from webapp.models import Customer
from webapp.models.customer import LEAN
from webapp.security import role_required

# Blacklist pages (and the blacklist parts of other features' pages) link to profiles.
bp.add_app_template_global(customer_url)

PER_PAGE = 50
SORTS = {
    "review": (
        "Needs review first",
        lambda: func.coalesce(Customer.blacklist_reviewed_at, Customer.blacklisted_at),
    ),
    "since": ("Oldest first", lambda: Customer.blacklisted_at),
    "-since": ("Newest first", lambda: Customer.blacklisted_at.desc()),
    "name": ("Name", lambda: Customer.last_name),
}
LEVELS = {"": "Active (all)", "block": "Blacklisted", "warn": "Warnings", "lapsed": "Lapsed"}


def customer_or_404(customer_id) -> Customer:
    """A customer of the signed-in user's business (without its link rows), or 404."""
    return edge.customer_or_404(customer_id, options=LEAN)


def next_or(fallback: str) -> str:
    """The form's `next` when it is a path on this site, else `fallback`."""
    return edge.safe_next(request.form.get("next")) or fallback


@bp.route("/customers/<uuid:customer_id>/blacklist", methods=["GET", "POST"])
@role_required("manager")
def blacklist(customer_id):
    """Blacklist or flag a customer, or change the restriction they have."""
    customer = customer_or_404(customer_id)
    if customer.merged_into_id and request.method == "GET":
        return redirect(url_for("blacklist.blacklist", customer_id=customer.merged_into_id), 303)
    form = BlacklistForm(obj=None if request.method == "POST" else _form_values(customer))
    if form.validate_on_submit():
        try:
            services.blacklist(
                customer, current_user, form.reason.data, form.level.data, form.expires_on.data
            )
        except Invalid as e:
            db.session.rollback()
            edge.show_errors(form, e)
        else:
            db.session.commit()
            flash(f"{customer.display_name} is now {_level_phrase(customer.blacklist_level)}.", "success")
            return redirect(customer_url(customer), 303)
    return _form_page(customer, form, LiftForm(formdata=None))


def _form_values(customer: Customer):
    """Prefill the form from an existing restriction."""

    class Values:
        reason = customer.blacklist_reason if customer.restriction else ""
        level = customer.blacklist_level if customer.restriction else "block"
        expires_on = customer.blacklist_expires_on if customer.restriction else None

    return Values


def _level_phrase(level: str) -> str:
    return "blacklisted" if level == "block" else "flagged with a warning"


def _form_page(customer, form, lift_form):
    status = 422 if (form.errors or lift_form.errors) else 200
    by = staff_names([customer.blacklisted_by_id]).get(customer.blacklisted_by_id)
    return page_or_block(
        "blacklist/form.html",
        "content",
        status=status,
        customer=customer,
        form=form,
        lift_form=lift_form,
        by=by,
    )


@bp.post("/customers/<uuid:customer_id>/unblacklist")
@role_required("manager")
def lift(customer_id):
    """Remove a customer's restriction, with a reason."""
    customer = customer_or_404(customer_id)
    lift_form = LiftForm()
    if lift_form.validate_on_submit():
        try:
            services.unblacklist(customer, current_user, lift_form.reason.data)
        except Invalid as e:
            db.session.rollback()
            edge.show_errors(lift_form, e)
        else:
            db.session.commit()
            flash(f"Restriction lifted from {customer.display_name}.", "success")
            return redirect(next_or(customer_url(customer)), 303)
    return _form_page(customer, BlacklistForm(formdata=None, obj=_form_values(customer)), lift_form)


@bp.get("/blacklist")
@role_required("manager")
def index():
    """Restricted customers, stalest review first, and customers suggested for review."""
    sort = request.args.get("sort", "review")
    sort = sort if sort in SORTS else "review"
    level = request.args.get("level", "")
    level = level if level in LEVELS else ""
    page = edge.page_number(request.args.get("page"))
    query = select(Customer).where(services.live_customers(current_user.business_id))
    if level == "lapsed":
        query = query.where(Customer.blacklisted_at.is_not(None), ~services.active_restriction_clause())
    else:
        query = query.where(services.active_restriction_clause())
        if level:
            query = query.where(Customer.blacklist_level == level)
    rows = edge.page_of(query.order_by(SORTS[sort][1](), Customer.id).options(*LEAN), page, PER_PAGE)
    names = staff_names(
        [c.blacklisted_by_id for c in rows.items] + [c.blacklist_reviewed_by_id for c in rows.items]
    )
    suggested = services.suggested_for_review(current_user.business_id) if page == 1 else []
    return page_or_block(
        "blacklist/index.html",
        "results",
        customers=rows.items,
        names=names,
        suggested=suggested,
        sort=sort,
        sorts=SORTS,
        level=level,
        levels=LEVELS,
        page=rows.page,
        has_next=rows.has_next,
        review_form=ReviewForm(formdata=None),
    )


@bp.post("/blacklist/<uuid:customer_id>/review")
@role_required("manager")
def review(customer_id):
    """Mark a restriction as reviewed (kept as it is)."""
    customer = customer_or_404(customer_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.mark_reviewed(customer, current_user, form.note.data or "")
        except Invalid as e:
            db.session.rollback()
            flash(e.message, "error")
        else:
            db.session.commit()
            flash(f"Review of {customer.display_name}'s restriction recorded.", "success")
    else:
        flash("The note is too long.", "error")
    return redirect(next_or(url_for("blacklist.index")), 303)
