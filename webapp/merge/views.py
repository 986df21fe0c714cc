"""Duplicates and merge screens: candidates, dismiss, merge or transfer, undo."""

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.edge import customer_or_404, customer_url, page_number
from webapp.errors import Conflict, Invalid
from webapp.extensions import db
from webapp.htmx import page_or_block, wants_fragment
from webapp.merge import bp, candidates, queries, rows, services, undo
from webapp.merge.forms import ActionForm, MergeForm, PairForm
from webapp.merge.history import undo_problems
from webapp.models import AuditEvent, Customer, DuplicateScan
from webapp.models.customer import LEAN
from webapp.security import role_required
from webapp.text import counted

# Merge pages link to the customers they show.
bp.add_app_template_global(customer_url)

PER_PAGE = 25
REFRESH_WHILE_YOU_WAIT = 100_000  # customers; above this the check is left to the command


def customer_arg(name: str) -> Customer | None:
    """The customer named by a query-string id, 404 when it is not one of this business's."""
    raw = request.values.get(name, "").strip()
    return customer_or_404(raw, options=LEAN) if raw else None


@bp.get("/duplicates")
@role_required("manager")
def duplicates():
    """Candidate pairs, most certain first, and the merges that can still be undone."""
    page = page_number(request.args.get("page"))
    reason = request.args.get("reason", "")
    pairs, has_next = queries.list_candidates(current_user.business_id, page, PER_PAGE, reason)
    merges = _recent_merges()
    problems = undo_problems(merges)
    recent = [(e, problems[e.id]) for e in merges]
    return page_or_block(
        "merge/duplicates.html",
        "results",
        pairs=pairs,
        page=page,
        has_next=has_next,
        reason=reason,
        reasons=candidates.REASON_LABELS,
        describe=candidates.describe,
        scan=db.session.get(DuplicateScan, current_user.business_id),
        recent=recent,
        form=ActionForm(),
    )


def _recent_merges(limit: int = 5) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.business_id == current_user.business_id, AuditEvent.action == "customer.merged")
        .order_by(AuditEvent.created_at.desc())
        .limit(limit)
    ).all()


@bp.post("/duplicates/refresh")
@role_required("manager")
def refresh():
    """Recompute this business's candidates now."""
    if ActionForm().validate_on_submit():
        last = db.session.get(DuplicateScan, current_user.business_id)
        if last is not None and last.customers > REFRESH_WHILE_YOU_WAIT:
            flash(
                f"With {last.customers:,} customers the check takes minutes, so it runs in the background "
                "(flask refresh-duplicates, e.g. nightly). The list shows its last results.",
                "info",
            )
            return redirect(url_for("merge.duplicates"), 303)
        scan = candidates.refresh_duplicates(current_user.business_id)
        db.session.commit()
        found = counted(scan.candidates, "possible duplicate")
        flash(f"Checked {counted(scan.customers, 'customer')}: {found}.", "success")
    return redirect(url_for("merge.duplicates"), 303)


@bp.post("/duplicates/dismiss")
@role_required("manager")
def dismiss():
    """ "Not a duplicate": never suggest this pair again."""
    form = PairForm()
    a, b = customer_arg("a"), customer_arg("b")
    if not form.validate_on_submit() or a is None or b is None:
        abort(400)
    candidates.dismiss_pair(current_user.business_id, a.id, b.id, current_user)
    db.session.commit()
    flash(f"{a.display_name} and {b.display_name} will not be suggested as duplicates again.", "success")
    return redirect(request.referrer if _local(request.referrer) else url_for("merge.duplicates"), 303)


def _local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/customers/merge", methods=["GET", "POST"])
@role_required("manager")
def merge():
    """Both records side by side, a choice per field, a preview; merge or transfer bookings only."""
    source, target = customer_arg("source"), customer_arg("target")
    if source is None and target is None:
        flash("Choose two customers to merge: start from a pair on this page.", "info")
        return redirect(url_for("merge.duplicates"), 303)
    if source is None or target is None:
        return _choose_other(source or target)
    form = MergeForm()
    if request.method == "GET":
        form.process(data={**services.default_choices(source, target)})
        form.source_version.data, form.target_version.data = source.version, target.version
    problem = _pair_problem(source, target)
    if problem is None and form.validate_on_submit() and request.form.get("action") in ("merge", "transfer"):
        try:
            if request.form["action"] == "transfer":
                n = services.transfer_bookings(source, target, current_user)
                message = (
                    f"{rows.label('booking', n)} moved from {source.display_name} to {target.display_name}."
                )
            else:
                event = services.merge_customers(
                    source, target, form.choices(), current_user, form.versions()
                )
                moved = ", ".join(rows.label(t, len(ids)) for t, ids in event.changes["moved"].items())
                message = f"Merged into {target.display_name}{f' ({moved} moved)' if moved else ''}."
        except (Invalid, Conflict) as e:
            db.session.rollback()
            form.form_errors.append(e.message)
        else:
            db.session.commit()
            flash(
                message
                + (
                    " You can undo this from the profile's history."
                    if request.form["action"] == "merge"
                    else ""
                ),
                "success",
            )
            return redirect(customer_url(target), 303)
    return _merge_page(source, target, form, problem)


def _choose_other(anchor: Customer):
    """Merging starts from one customer: find the other (its duplicate candidates, or a search)."""
    if anchor.merged_into_id:
        return redirect(url_for("merge.merge", source=anchor.merged_into_id), 303)
    q = request.args.get("q", "").strip()
    return page_or_block(
        "merge/choose.html",
        "results",
        anchor=anchor,
        q=q,
        found=queries.find_customers(current_user.business, q, exclude_id=anchor.id) if q else [],
        pairs=queries.candidates_of(anchor),
        describe=candidates.describe,
    )


def _pair_problem(source: Customer, target: Customer) -> str | None:
    try:
        services.check_pair(source, target, current_user.business_id)
    except Invalid as e:
        return e.message
    return None


def _merge_page(source, target, form, problem):
    plan, plan_error = None, None
    if problem is None:
        try:
            plan = services.plan_merge(source, target, form.choices())
        except Invalid as e:
            plan_error = e.message
    status = 422 if (form.errors or form.form_errors or problem) and request.method == "POST" else 200
    return page_or_block(
        "merge/merge.html",
        "preview" if request.form.get("action") == "preview" else "content",
        status=status,
        source=source,
        target=target,
        form=form,
        plan=plan,
        plan_error=plan_error,
        problem=problem,
        fields=services.CHOICE_FIELDS,
        field_labels=services.FIELD_LABELS,
        label=rows.label,
        kept_name=kept_name(source, target, form.choices()),
        oob=wants_fragment(),  # the preview fragment also relabels the merge button
    )


def kept_name(source: Customer, target: Customer, choices: dict) -> str:
    """The survivor's name once merged, with the name fields chosen: what the merge button says is kept."""
    side = {"source": source, "target": target}
    first, last = (getattr(side.get(choices.get(n)) or target, n) for n in ("first_name", "last_name"))
    return " ".join(p for p in (first, last) if p) or target.display_name


@bp.post("/customers/merge/<int:event_id>/undo")
@role_required("manager")
def undo_merge(event_id: int):
    """Reverse a merge (within 30 days), or say exactly why not."""
    event = undo.merge_event(current_user.business_id, event_id)
    if event is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    target = db.session.get(Customer, event.customer_id, options=LEAN)
    try:
        result = undo.undo_merge(event, current_user)
    except Invalid as e:
        db.session.rollback()
        flash(f"The merge cannot be undone. {e.message}", "error")
        return redirect(customer_url(target) if target else url_for("merge.duplicates"), 303)
    db.session.commit()
    source = db.session.get(Customer, uuid.UUID(event.changes["source_id"]), options=LEAN)
    text = f"Merge undone: {source.display_name} is back, with {result['moved_back']:,} records moved back."
    if result["stayed"]:
        text += f" {result['stayed']:,} stay where they are (moved or removed since the merge)."
    if result["kept"]:
        text += f" {target.display_name} keeps the {', '.join(result['kept'])} edited since the merge."
    flash(text, "success")
    return redirect(customer_url(target), 303)
