"""CSV import screens: upload, match the columns, preview and dry run, progress, result, undo."""

from itertools import islice
from pathlib import PurePosixPath

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from webapp.edge import body_limit, parse_id, show_errors
from webapp.error_pages import render_error
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.htmx import page_or_block
from webapp.imports import reading, services
from webapp.imports.forms import ActionForm, MappingForm, UploadForm
from webapp.imports.mapping import FIELDS
from webapp.models import ImportJob, StaffUser
from webapp.security import role_required
from webapp.text import counted

bp = Blueprint("imports", __name__)

RECENT = 20  # imports listed on the upload page
PREVIEW_ROWS = 10
SAMPLE_VALUES = 3  # cells shown beside each column's select
SAMPLE_ROWS = 20  # rows they are taken from
ACTIONS = ("preview", "dry_run", "run")
POLICY_HELP = {
    "skip": "A row whose email or phone matches a customer you already have is left out. "
    "That customer stays exactly as it is.",
    "update": "The file's values replace the customer's details wherever the file has one. "
    "Empty cells in the file change nothing.",
    "fill": "Only the customer's empty details are filled in from the file. Nothing already there changes.",
}


def upload_limit() -> int:
    """The largest file the upload takes, in bytes (IMPORT_MAX_BYTES: the upload's own body limit)."""
    return services.upload_limit()


def megabytes(n: int) -> str:
    """A size for people: "16 MB"."""
    return f"{n / (1024 * 1024):,.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024):,} KB"


@bp.route("/customers/import", methods=["GET", "POST"])
@body_limit("IMPORT_MAX_BYTES", "manager")
@role_required("manager")
def upload():
    """The upload form and this business's recent imports; a good file goes on to its mapping step."""
    form = UploadForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            job = services.upload(g.business, current_user, file.filename or "", file.read())
        except Invalid as e:
            db.session.rollback()
            show_errors(form, e)
        else:
            db.session.commit()
            return redirect(url_for("imports.job", job_id=job.id), 303)
    return upload_page(form, 422 if form.errors else 200)


def upload_page(form: UploadForm, status: int = 200):
    """The upload page (the form, with any errors on it, and the recent imports)."""
    recent = services.jobs(g.business, RECENT)
    limit = upload_limit()
    return page_or_block(
        "imports/upload.html",
        "form",
        status,
        form=form,
        recent=recent,
        limit=limit,
        limit_text=megabytes(limit),
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(e):
    """A file over the limit is a message on the upload form, not the generic 413 page."""
    # The body is refused while the request guard reads it, before the access check has run: check here.
    if request.endpoint != "imports.upload" or not current_user.is_authenticated:
        return render_error(413)
    if not current_user.has_role("manager") or current_user.must_change_password:
        return render_error(413)
    g.business = current_user.business
    form = UploadForm(formdata=None)
    size = f" is {megabytes(request.content_length)}" if request.content_length else " is too large"
    form.file.errors = [
        f"This file{size}: the most one upload takes is {megabytes(upload_limit())}. Split it into "
        "smaller files, or ask whoever runs Frontdesk to import it with the command "
        "`flask import-customers`, which has no size limit."
    ]
    db.session.rollback()
    return upload_page(form, 413)


def load_job(job_id: int) -> ImportJob:
    """This business's import, or 404 (an id past what the column holds too)."""
    if parse_id(str(job_id), int) is None:
        abort(404)
    return services.job_or_404(g.business, job_id)


def mapping_form(job: ImportJob) -> MappingForm:
    """The mapping step's form: the request's values on POST, else the job's saved (guessed) mapping."""
    saved = {str(k): v for k, v in (job.mapping or {}).items()}
    data = {f"col_{i}": saved.get(str(i), "ignore") for i in range(len(job.headers or []))}
    return MappingForm.for_job(
        job.headers or [], FIELDS, services.POLICIES, data={**data, "policy": job.policy}
    )


@bp.get("/imports/<int:job_id>")
@role_required("manager")
def job(job_id: int):
    """One import: its mapping step while uploaded, then its progress, then its result."""
    job = load_job(job_id)
    if job.status == "uploaded" or (job.status == "failed" and request.args.get("step") == "mapping"):
        if request.headers.get("HX-Target") == "job":  # a progress poll, and the job went back a step
            return "", 200, {"HX-Redirect": url_for("imports.job", job_id=job.id)}
        return mapping_page(job, mapping_form(job), "preview")  # the guess previewed at once
    return job_page(job)


def job_page(job: ImportJob, status: int = 200):
    """Progress while queued or running (htmx polls the `job` block), the result when finished."""
    who = db.session.get(StaffUser, job.created_by_id) if job.created_by_id else None
    undone_by = db.session.get(StaffUser, job.undone_by_id) if job.undone_by_id else None
    return page_or_block(
        "imports/job.html", "job", status, job=job, who=who, undone_by=undone_by, undone=job.undo_report
    )


def mapping_page(job: ImportJob, form: MappingForm, action: str | None = None, status: int = 200):
    """The mapping step; with the preview table or the dry run's counts when asked for."""
    rows = counts = None
    if action in ("preview", "dry_run") and not form.errors:
        try:
            rows = services.preview(job, PREVIEW_ROWS)
            counts = services.dry_run(job) if action == "dry_run" else None
        except Invalid as e:  # the saved (guessed) mapping cannot be used as it is: say why
            show_errors(form, e)
    return page_or_block(
        "imports/mapping.html",
        "outcome",
        status,
        job=job,
        form=form,
        rows=rows,
        counts=counts,
        samples=column_samples(job),
        fields=FIELDS,
        policy_help=POLICY_HELP,
        shown_fields=preview_columns(rows or []),
    )


def preview_columns(rows: list) -> list[tuple[str, str]]:
    """(value key, heading) of the preview table: the fields the rows hold, in the mapping list's order."""
    keys = {key for row in rows for key in row.values}
    ordered = [key for key in FIELDS if key in keys] + sorted(keys - set(FIELDS))
    heading = {key: (FIELDS.get(key) or key.replace("_", " ").capitalize()).split(" (")[0] for key in ordered}
    return [(key, heading[key]) for key in ordered]


def column_samples(job: ImportJob, rows: int = SAMPLE_ROWS) -> dict[int, list[str]]:
    """The first non-empty values of each column (from the first `rows` rows), to recognise it by."""
    samples: dict[int, list[str]] = {i: [] for i in range(len(job.headers or []))}
    try:
        for _, cells in islice(reading.rows(job.data, job.encoding, job.delimiter), rows):
            for i, cell in enumerate(cells[: len(samples)]):
                value = cell.strip()
                if value and len(samples[i]) < SAMPLE_VALUES and value not in samples[i]:
                    samples[i].append(value)
    except Invalid:  # a row the reader refuses: the preview says which; the samples stop there
        pass
    return samples


@bp.post("/imports/<int:job_id>/mapping")
@role_required("manager")
def mapping(job_id: int):
    """Save the mapping and policy, then preview, dry run, or queue the import."""
    job = load_job(job_id)
    if job.status not in ("uploaded", "failed"):
        flash("This import has already started: its mapping can no longer change.", "info")
        return redirect(url_for("imports.job", job_id=job.id), 303)
    form = mapping_form(job)
    action = request.form.get("action") if request.form.get("action") in ACTIONS else "preview"
    if not form.validate_on_submit():
        return mapping_page(job, form, status=422)
    try:
        services.set_mapping(job, form.mapping(), form.policy.data)
        if action == "run":
            services.queue(job, current_user)
    except Invalid as e:
        db.session.rollback()
        show_errors(form, e)
        return mapping_page(job, form, status=422)
    db.session.commit()
    if action == "run":
        return redirect(url_for("imports.job", job_id=job.id), 303)
    return mapping_page(job, form, action)


@bp.post("/imports/<int:job_id>/undo")
@role_required("manager")
def undo(job_id: int):
    """Take the whole import back: what it created is removed, what it updated gets its old values."""
    job = load_job(job_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = services.undo(job, current_user)
    except Invalid as e:
        db.session.rollback()
        flash(f"This import cannot be undone. {e.message}", "error")
        return redirect(url_for("imports.job", job_id=job.id), 303)
    db.session.commit()
    flash(undo_message(result), "success")
    return redirect(url_for("imports.job", job_id=job.id), 303)


def undo_message(result: services.UndoResult) -> str:
    """One sentence about an undo."""
    text = (
        f"Import undone: {counted(result.removed, 'customer')} removed, "
        f"{counted(result.restored, 'customer')} given their old details back."
    )
    if result.left_alone:
        left = counted(len(result.left_alone), "customer")
        text += f" {left} changed since the import left alone (listed below)."
    return text


@bp.get("/imports/<int:job_id>/rejected.csv")
@role_required("manager")
def rejected_csv(job_id: int):
    """The rows the import refused, with the reason for each, as a CSV download."""
    job = load_job(job_id)
    if job.status not in ("done", "undone"):
        abort(404)
    stem = secure_filename(PurePosixPath(job.filename or "import").stem) or "import"
    return Response(
        stream_with_context(services.rejected_csv(job)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{stem}-rejected.csv"'},
    )
