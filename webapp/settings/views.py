"""Owner settings screens."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.errors import RuleBroken
from webapp.extensions import db
from webapp.models import Location, StaffUser
from webapp.models.staff import ROLE_LABELS
from webapp.security import role_required
from webapp.settings import bp, services
from webapp.settings.forms import BusinessForm, LocationForm, StaffChangeForm, StaffForm


def owned(model, object_id: int):
    """A row of the signed-in user's business, or 404."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.business_id != current_user.business_id:
        abort(404)
    return obj


def apply_rule_error(form, error: RuleBroken) -> None:
    """Show a service's rule error on the field it concerns."""
    target = form[error.field] if error.field in form else None
    (target.errors if target is not None else form.form_errors).append(error.message)


@bp.route("", methods=["GET", "POST"])
@role_required("owner")
def index():
    """The business's details."""
    business = current_user.business
    form = BusinessForm(obj=business)
    if form.validate_on_submit():
        try:
            services.update_business(
                business,
                current_user,
                **{
                    f: form[f].data
                    for f in (
                        "name",
                        "timezone",
                        "phone_region",
                        "currency",
                        "points_per_unit",
                        "point_value_minor",
                    )
                },
            )
        except RuleBroken as e:
            apply_rule_error(form, e)
        else:
            db.session.commit()
            flash("Business details saved.", "success")
            return redirect(url_for("settings.index"), 303)
    return render_template("settings/business.html", form=form), 422 if form.errors else 200


@bp.route("/locations", methods=["GET", "POST"])
@role_required("owner")
def locations():
    """List locations and add one."""
    form = LocationForm()
    if form.validate_on_submit():
        try:
            services.add_location(current_user.business, form.name.data, current_user)
        except RuleBroken as e:
            apply_rule_error(form, e)
        else:
            db.session.commit()
            flash(f"Location {form.name.data.strip()!r} added.", "success")
            return redirect(url_for("settings.locations"), 303)
    rows = db.session.scalars(
        select(Location).where(Location.business_id == current_user.business_id).order_by(Location.name)
    ).all()
    return render_template("settings/locations.html", form=form, locations=rows), 422 if form.errors else 200


@bp.post("/locations/<int:location_id>")
@role_required("owner")
def update_location(location_id: int):
    """Rename a location."""
    location = owned(Location, location_id)
    form = LocationForm()
    try:
        if not form.validate_on_submit():
            raise RuleBroken("name", "Give the location a name of at most 120 characters.")
        services.rename_location(location, form.name.data, current_user)
    except RuleBroken as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash("Location renamed.", "success")
    return redirect(url_for("settings.locations"), 303)


@bp.post("/locations/<int:location_id>/<any(activate, deactivate):action>")
@role_required("owner")
def toggle_location(location_id: int, action: str):
    """Deactivate or reactivate a location."""
    location = owned(Location, location_id)
    try:
        services.set_location_active(location, action == "activate", current_user)
    except RuleBroken as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"{location.name} {'reactivated' if location.active else 'deactivated'}.", "success")
    return redirect(url_for("settings.locations"), 303)


@bp.route("/staff", methods=["GET", "POST"])
@role_required("owner")
def staff():
    """List staff and add one."""
    form = StaffForm()
    if form.validate_on_submit():
        try:
            services.create_staff(
                current_user.business,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                actor=current_user,
            )
        except RuleBroken as e:
            apply_rule_error(form, e)
        else:
            db.session.commit()
            flash(f"{form.name.data} can now sign in; they will choose their own password.", "success")
            return redirect(url_for("settings.staff"), 303)
    users = db.session.scalars(
        select(StaffUser).where(StaffUser.business_id == current_user.business_id).order_by(StaffUser.name)
    ).all()
    return render_template(
        "settings/staff.html", form=form, users=users, role_labels=ROLE_LABELS
    ), 422 if form.errors else 200


@bp.post("/staff/<int:user_id>")
@role_required("owner")
def change_staff(user_id: int):
    """Change a colleague's role or deactivate them (ends their sessions)."""
    user = owned(StaffUser, user_id)
    form = StaffChangeForm()
    try:
        if not form.validate_on_submit():
            raise RuleBroken("role", "Choose owner, manager or receptionist.")
        services.change_staff(user, role=form.role.data, active=form.active.data, actor=current_user)
    except RuleBroken as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"{user.display_name} updated.", "success")
    return redirect(url_for("settings.staff"), 303)
