"""The export screens: the list as CSV, one person's data as JSON, and the retention setting."""

from datetime import date

from flask import Response, flash, g, json, redirect, request, stream_with_context, url_for
from flask_login import current_user

from webapp.edge import customer_or_404, show_errors
from webapp.errors import Invalid
from webapp.exports import bp, services
from webapp.exports.forms import RetentionForm
from webapp.exports.retention import RULE
from webapp.extensions import db
from webapp.htmx import page_or_block
from webapp.search import read_criteria
from webapp.security import role_required


@bp.get("/customers/export.csv")
@role_required("manager")
def customers_csv():
    """Every customer the list's query string selects, as a streamed CSV download."""
    criteria = read_criteria(request.args, g.business.timezone)
    chunks = services.export_customers_csv(g.business, criteria, current_user._get_current_object())

    def body():
        try:
            yield from chunks
        finally:
            chunks.close()  # a cancelled download still records what went out
            db.session.commit()

    name = f"customers-{date.today().isoformat()}.csv"
    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.get("/customers/<uuid:customer_id>/export.json")
@role_required("manager")
def customer_json(customer_id):
    """Everything held about one customer, as a JSON download (an access request's answer)."""
    customer = customer_or_404(customer_id)
    data = services.export_person(customer, current_user._get_current_object())
    db.session.commit()
    name = f"customer-{customer.id}-{date.today().isoformat()}.json"
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.route("/settings/retention", methods=["GET", "POST"])
@role_required("owner")
def retention():
    """The retention rule: on with N years, or off; with who it would anonymize now."""
    business = g.business
    years = business.retention_years
    form = RetentionForm(enabled=years is not None, years=years or 3)
    if form.validate_on_submit():
        try:
            services.set_retention(business, form.years.data if form.enabled.data else None, current_user)
        except Invalid as e:
            show_errors(form, e)
        else:
            db.session.commit()
            flash(
                "Retention rule saved." if business.retention_years else "Retention rule turned off.",
                "success",
            )
            return redirect(url_for("exports.retention"), 303)
    asked = form.years.data if request.method == "POST" else request.args.get("years", type=int)
    if request.method == "GET" and asked is not None:
        form.years.data = asked  # a preview asked for shows its number in the form
    preview = preview_for(asked)
    return page_or_block(
        "settings/retention.html",
        "preview",
        status=422 if form.errors else 200,
        form=form,
        preview=preview,
        saved_years=business.retention_years,
        rule=RULE.format(years=preview.years if preview else "N"),
    )


def preview_for(asked: int | None):
    """The preview for the years asked (a GET's ?years=, a posted form's) or the saved ones (else 3)."""
    years = asked if asked is not None else (g.business.retention_years or 3)
    try:
        return services.preview_retention(g.business, years)
    except Invalid:
        return None
