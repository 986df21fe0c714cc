"""Owner settings screens: the business, its locations, staff, tags and marketing preferences.

Every list screen has the same two shapes, written once below: the list with its "add" form
(`list_with_add_form`: 422 with the form again, or 303 back to the list), and a change posted from a
row (`change_from_row`: the outcome flashed, 303 back to the list).
"""

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from webapp.edge import owned_or_404, show_errors
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Location, MarketingPreference, StaffUser, Tag
from webapp.models.staff import ROLE_LABELS
from webapp.security import role_required
from webapp.settings import bp, named_lists, services
from webapp.settings.forms import (
    BusinessForm,
    LocationForm,
    PreferenceForm,
    StaffChangeForm,
    StaffForm,
    TagForm,
)

# The loyalty rate has its own page (/settings/loyalty, webapp/money).
BUSINESS_FIELDS = ("name", "timezone", "phone_region", "currency")


def list_with_add_form(
    form: FlaskForm, add: Callable[[], object], added: Callable[[object], str], endpoint: str, page
):
    """Run `add` when the form is posted and valid: commit and 303 back, or show its errors with 422.
    `added` words the flash from what `add` returned; `page()` renders the screen."""
    if form.validate_on_submit():
        try:
            result = add()
        except Invalid as e:
            show_errors(form, e)
        else:
            db.session.commit()
            flash(added(result), "success")
            return redirect(url_for(endpoint), 303)
    return page(), 422 if form.errors else 200


def change_from_row(
    form: FlaskForm | None, change: Callable[[], object], done: Callable[[], str], endpoint: str, invalid=None
):
    """Apply a change posted from a row of a list, flash how it went and 303 back to the list.
    A form that does not validate shows `invalid` (field, message), or its own first error."""
    try:
        if form is not None and not form.validate_on_submit():
            raise Invalid(*(invalid or ("name", next(iter(form.errors.values()))[0])))
        change()
    except Invalid as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(done(), "success")
    return redirect(url_for(endpoint), 303)


# --- the business ----------------------------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@role_required("owner")
def index():
    """The business's details."""
    business = current_user.business
    form = BusinessForm(obj=business)
    return list_with_add_form(
        form,
        lambda: services.update_business(
            business, current_user, **{f: form[f].data for f in BUSINESS_FIELDS}
        ),
        lambda _: "Business details saved.",
        "settings.index",
        lambda: render_template("settings/business.html", form=form),
    )


# --- locations -------------------------------------------------------------------------------------


@bp.route("/locations", methods=["GET", "POST"])
@role_required("owner")
def locations():
    """List locations and add one."""
    form = LocationForm()

    def page():
        rows = db.session.scalars(
            select(Location).where(Location.business_id == current_user.business_id).order_by(Location.name)
        ).all()
        return render_template("settings/locations.html", form=form, locations=rows)

    return list_with_add_form(
        form,
        lambda: services.add_location(current_user.business, form.name.data, current_user),
        lambda _: f"Location {form.name.data.strip()!r} added.",
        "settings.locations",
        page,
    )


@bp.post("/locations/<int:location_id>")
@role_required("owner")
def update_location(location_id: int):
    """Rename a location."""
    location = owned_or_404(Location, location_id)
    form = LocationForm()
    return change_from_row(
        form,
        lambda: services.rename_location(location, form.name.data, current_user),
        lambda: "Location renamed.",
        "settings.locations",
        invalid=("name", "Give the location a name of at most 120 characters."),
    )


@bp.post("/locations/<int:location_id>/<any(activate, deactivate):action>")
@role_required("owner")
def toggle_location(location_id: int, action: str):
    """Deactivate or reactivate a location."""
    location = owned_or_404(Location, location_id)
    return change_from_row(
        None,
        lambda: services.set_location_active(location, action == "activate", current_user),
        lambda: f"{location.name} {'reactivated' if location.active else 'deactivated'}.",
        "settings.locations",
    )


# --- staff -----------------------------------------------------------------------------------------


@bp.route("/staff", methods=["GET", "POST"])
@role_required("owner")
def staff():
    """List staff and add one."""
    form = StaffForm()

    def page():
        users = db.session.scalars(
            select(StaffUser)
            .where(StaffUser.business_id == current_user.business_id)
            .order_by(StaffUser.name)
        ).all()
        return render_template("settings/staff.html", form=form, users=users, role_labels=ROLE_LABELS)

    return list_with_add_form(
        form,
        lambda: services.create_staff(
            current_user.business,
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            password=form.password.data,
            actor=current_user,
        ),
        lambda _: f"{form.name.data} can now sign in; they will choose their own password.",
        "settings.staff",
        page,
    )


@bp.post("/staff/<int:user_id>")
@role_required("owner")
def change_staff(user_id: int):
    """Change a colleague's role or deactivate them (ends their sessions)."""
    user = owned_or_404(StaffUser, user_id)
    form = StaffChangeForm()
    return change_from_row(
        form,
        lambda: services.change_staff(user, role=form.role.data, active=form.active.data, actor=current_user),
        lambda: f"{user.display_name} updated.",
        "settings.staff",
        invalid=("role", "Choose owner, manager or receptionist."),
    )


# --- tags ------------------------------------------------------------------------------------------


@bp.route("/tags", methods=["GET", "POST"])
@role_required("owner")
def tags():
    """List tags and add one."""
    form = TagForm()
    return list_with_add_form(
        form,
        lambda: named_lists.create_tag(current_user.business, form.name.data, form.color.data, current_user),
        lambda tag: f"Tag {tag.name!r} added.",
        "settings.tags",
        lambda: render_template(
            "settings/tags.html",
            form=form,
            rows=named_lists.tag_rows(current_user.business_id),
            colors=named_lists.COLORS,
        ),
    )


@bp.post("/tags/<int:tag_id>")
@role_required("owner")
def update_tag_view(tag_id: int):
    """Rename or recolour a tag."""
    tag = owned_or_404(Tag, tag_id)
    form = TagForm()
    return change_from_row(
        form,
        lambda: named_lists.update_tag(tag, form.name.data, form.color.data, current_user),
        lambda: f"Tag {tag.name!r} saved.",
        "settings.tags",
    )


@bp.post("/tags/<int:tag_id>/delete")
@role_required("owner")
def delete_tag_view(tag_id: int):
    """Delete a tag (customers lose it)."""
    tag = owned_or_404(Tag, tag_id)
    name, used = tag.name, 0

    def delete():
        nonlocal used
        used = named_lists.delete_tag(tag, current_user)

    return change_from_row(
        None,
        delete,
        lambda: f"Tag {name!r} deleted{f' and removed from {used} customers' if used else ''}.",
        "settings.tags",
    )


# --- marketing preferences -------------------------------------------------------------------------


@bp.route("/preferences", methods=["GET", "POST"])
@role_required("owner")
def preferences():
    """List marketing preferences and add one."""
    form = PreferenceForm()
    return list_with_add_form(
        form,
        lambda: named_lists.create_preference(current_user.business, form.name.data, current_user),
        lambda pref: f"Preference {pref.name!r} added.",
        "settings.preferences",
        lambda: render_template(
            "settings/preferences.html", form=form, rows=named_lists.preference_rows(current_user.business_id)
        ),
    )


@bp.post("/preferences/<int:pref_id>")
@role_required("owner")
def rename_preference_view(pref_id: int):
    """Rename a preference."""
    pref = owned_or_404(MarketingPreference, pref_id)
    form = PreferenceForm()
    return change_from_row(
        form,
        lambda: named_lists.rename_preference(pref, form.name.data, current_user),
        lambda: f"Preference {pref.name!r} saved.",
        "settings.preferences",
    )


@bp.post("/preferences/<int:pref_id>/<any(retire, restore):action>")
@role_required("owner")
def toggle_preference(pref_id: int, action: str):
    """Retire a preference or bring it back."""
    pref = owned_or_404(MarketingPreference, pref_id)
    return change_from_row(
        None,
        lambda: named_lists.set_preference_active(pref, action == "restore", current_user),
        lambda: f"Preference {pref.name!r} {'restored' if pref.active else 'retired; answers are kept'}.",
        "settings.preferences",
    )
