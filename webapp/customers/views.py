"""Customer record screens: create, edit, inline checks, profile, delete."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from webapp import signals
from webapp.blacklist.evasion import evasion_for, flash_evasion
from webapp.bookings.profile import profile_context
from webapp.customers import bp, services
from webapp.customers.form_glue import (
    FULL_FIELDS,
    LABELS,
    WALK_IN_FIELDS,
    build_form,
    form_data,
    is_walk_in_request,
    show_customer_errors,
    stale_differences,
)
from webapp.customers.forms import SOURCE_LABELS, CustomerForm
from webapp.customers.profile import profile_details
from webapp.edge import customer_link, customer_or_404, owned
from webapp.errors import Conflict, Invalid, PossibleDuplicate
from webapp.extensions import db
from webapp.htmx import page_or_block
from webapp.loyalty.cards import enrol_in
from webapp.loyalty.programs import programs_of
from webapp.models import AuditEvent, Customer
from webapp.security import role_required


@bp.get("/")
def home():
    """The desk opens on the customer search."""
    return redirect(url_for("customers.search"))


def to_profile(customer, message: str | None = None):
    if message:
        flash(message, "success")
    return redirect(url_for("customers.profile", customer_id=customer.id), 303)


@bp.route("/customers/new", methods=["GET", "POST"])
def new():
    """Add a customer, or a walk-in placeholder with `?walk_in=1`."""
    walk_in = is_walk_in_request()
    form = build_form()
    form.program_id.choices = [SelectChoice("", "No card")] + [
        SelectChoice(p.id, p.name) for p in programs_of(g.business, active_only=True)
    ]
    similar = []
    if request.method == "GET" and walk_in:
        form.dummy_label.data = services.walk_in_label(g.business)
    if form.validate_on_submit():
        done = services.customer_for_token(g.business.id, form.form_token.data)
        if done is not None:
            return to_profile(done)
        try:
            customer = create_from(form, walk_in)
        except (Invalid, PossibleDuplicate) as e:
            show_customer_errors(form, e)
            similar = e.similar if isinstance(e, PossibleDuplicate) else []
        else:
            return commit_created(form, customer, walk_in)
    status = 422 if (form.errors or similar) else 200
    return page_or_block(
        "customers/form.html",
        "form",
        status=status,
        form=form,
        customer=None,
        walk_in=walk_in,
        similar=similar,
    )


def create_from(form: CustomerForm, walk_in: bool):
    """Call the right service with what the form holds."""
    if walk_in:
        return services.create_walk_in(
            g.business, current_user, form_data(form, WALK_IN_FIELDS), label=form.dummy_label.data
        )
    customer = services.create_customer(
        g.business,
        current_user,
        form_data(form, FULL_FIELDS),
        allow_similar=request.form.get("allow_similar") == "1",
    )
    if form.program_id.data:  # the stamp card chosen on the form, in the same transaction
        enrol_in(customer, form.program_id.data, actor=current_user)
    return customer


def commit_created(form: CustomerForm, customer, walk_in: bool):
    """Commit a new customer once per form token; a repeated post goes to the first one's profile."""
    token = form.form_token.data
    try:
        services.remember_token(g.business.id, token, customer)
        db.session.commit()
    except IntegrityError:  # the same form was saved at the same moment (double click), or a race
        db.session.rollback()
        done = services.customer_for_token(g.business.id, token)
        if done is not None:
            return to_profile(done)
        raise
    what = "Walk-in added" if walk_in else "Customer added"
    flash_evasion(customer)
    return to_profile(customer, f"{what}: {customer.display_name}.")


@bp.route("/customers/<uuid:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id):
    """Change a customer's record; an edit made over a newer version is shown, not applied."""
    customer = customer_or_404(customer_id)
    if customer.merged_into_id:
        return redirect(url_for("customers.edit", customer_id=follow_merges(customer).id), 303)
    if customer.anonymized_at:
        flash("This customer was anonymized; the record can no longer be edited.", "error")
        return to_profile(customer)
    form = build_form(customer)
    fields = (*FULL_FIELDS, "dummy_label") if customer.is_dummy else FULL_FIELDS
    stale = last_change = None
    if form.validate_on_submit():
        try:
            changed = services.update_customer(
                customer, current_user, form_data(form, fields), expected_version=int(form.version.data or 0)
            )
        except Conflict as e:
            db.session.rollback()
            stale, last_change = (
                stale_differences(e.current, form_data(form, fields), form),
                latest_event(customer),
            )
            form.version.data = customer.version
        except Invalid as e:
            show_customer_errors(form, e)
        else:
            db.session.commit()
            flash_evasion(customer)
            return to_profile(customer, "Changes saved." if changed else "Nothing changed.")
    status = 409 if stale is not None else (422 if form.errors else 200)
    return page_or_block(
        "customers/form.html",
        "form",
        status=status,
        form=form,
        customer=customer,
        walk_in=False,
        stale=stale,
        last_change=last_change,
    )


def latest_event(customer):
    """The customer's most recent audit event (who saved last, and when)."""
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.business_id == customer.business_id, AuditEvent.customer_id == customer.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()


@bp.get("/customers/validate")
def validate_field():
    """Check one email or phone as the receptionist leaves the field (htmx); returns that field."""
    field = request.args.get("field", "")
    if field not in ("email", "phone"):
        abort(400)
    value = request.args.get(field, request.args.get("value", ""))
    form = CustomerForm(formdata=None, data={field: value})
    exclude = request.args.get("customer_id") or None
    ok = None
    try:
        clean = services.check_customer(g.business, {field: value}, customer=_excluded(exclude), full=False)
        if field == "phone" and clean.get("phone"):
            ok = clean["phone"]
    except Invalid as e:
        show_customer_errors(form, e)
    customer_id = exclude if _excluded(exclude) else None
    restricted = evasion_for(g.business, **{field: value}, exclude_id=customer_id)
    return render_template(
        "customers/_contact_field.html",
        form=form,
        name=field,
        ok=ok,
        customer_id=customer_id,
        restricted=restricted,
    )


def _excluded(raw):
    """The customer being edited (so their own email is not a clash), if it is one of ours."""
    return owned(Customer, raw) if raw else None  # a bad or foreign id simply excludes nobody


@bp.get("/customers/<uuid:customer_id>")
def profile(customer_id):
    """Everything about one customer; a merged record redirects to the one it was merged into."""
    customer = customer_or_404(customer_id)
    if customer.merged_into_id:
        survivor = follow_merges(customer)
        return redirect(url_for("customers.profile", customer_id=survivor.id, **request.args), 303)
    ctx = profile_details(customer, request.args)
    ctx.update(profile_context(customer, request.args))
    # What other features show on the profile (the restriction panel, whether a merge can be undone).
    for _receiver, shown in signals.profile_shown.send(customer, events=ctx["events"]):
        ctx.update(shown or {})
    return page_or_block(
        "customers/profile.html",
        "history",
        customer=customer,
        labels=LABELS,
        source_labels=SOURCE_LABELS,
        **ctx,
    )


def follow_merges(customer, hops: int = 10):
    """The customer a merged record now lives on (following a chain of merges)."""
    while customer.merged_into_id and hops:
        customer = customer_or_404(customer.merged_into_id)
        hops -= 1
    return customer


@bp.route("/customers/<uuid:customer_id>/delete", methods=["GET", "POST"])
@role_required("manager")
def delete(customer_id):
    """Confirm, then delete a customer with no history or anonymize one with history."""
    customer = customer_or_404(customer_id)
    if customer.merged_into_id:
        return redirect(url_for("customers.delete", customer_id=follow_merges(customer).id), 303)
    if request.method == "POST":
        name = customer.display_name
        outcome = services.delete_or_anonymize(customer, current_user)
        db.session.commit()
        if outcome == "deleted":
            flash(f"{name} was deleted.", "success")
            return redirect(url_for("customers.search"), 303)
        return to_profile(customer, "Customer anonymized: personal details wiped, bookings and totals kept.")
    return render_template(
        "customers/delete.html",
        customer=customer,
        has_history=services.has_history(customer),
        link=customer_link,
    )
