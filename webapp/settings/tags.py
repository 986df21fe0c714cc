"""Settings: the business's customer tags (add, rename, recolour, delete)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, func, select
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.audit import record
from webapp.errors import RuleBroken
from webapp.extensions import db
from webapp.models import Business, StaffUser, Tag, customer_tag
from webapp.security import role_required
from webapp.settings import bp
from webapp.settings.views import apply_rule_error, owned

COLORS = ("grey", "gold", "green", "red", "blue", "purple")


class TagForm(FlaskForm):
    """A tag's name and colour."""

    name = StringField("Tag name", validators=[DataRequired("Give the tag a name."), Length(max=60)])
    color = SelectField("Colour", choices=[SelectChoice(c, c.title()) for c in COLORS], default="grey")


def _check(business_id: int, name: str, color: str, tag_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RuleBroken("name", "Give the tag a name.")
    if len(name) > 60:
        raise RuleBroken("name", "Use at most 60 characters for a tag name.")
    if color not in COLORS:
        raise RuleBroken("color", f"Choose a colour: {', '.join(COLORS)}.")
    clash = select(Tag.id).where(Tag.business_id == business_id, func.lower(Tag.name) == name.lower())
    if tag_id is not None:
        clash = clash.where(Tag.id != tag_id)
    if db.session.scalar(clash):
        raise RuleBroken("name", f"There is already a tag called {name!r}.")
    return name


def create_tag(business: Business, name: str, color: str, actor: StaffUser) -> Tag:
    """A new tag; names are unique in the business, whatever their case. Caller commits."""
    tag = Tag(business_id=business.id, name=_check(business.id, name, color), color=color)
    db.session.add(tag)
    db.session.flush()
    record(actor, "tag.created", business_id=business.id, tag=tag.name, color=color)
    return tag


def update_tag(tag: Tag, name: str, color: str, actor: StaffUser) -> None:
    """Rename or recolour a tag (customers keep it). Caller commits."""
    name = _check(tag.business_id, name, color, tag.id)
    changes = {k: [getattr(tag, k), v] for k, v in (("name", name), ("color", color)) if getattr(tag, k) != v}
    tag.name, tag.color = name, color
    if changes:
        record(actor, "tag.updated", business_id=tag.business_id, tag=tag.name, **changes)
    db.session.flush()


def delete_tag(tag: Tag, actor: StaffUser) -> int:
    """Remove a tag from every customer and delete it; returns how many customers had it."""
    used = db.session.scalar(select(func.count()).where(customer_tag.c.tag_id == tag.id)) or 0
    db.session.execute(
        delete(customer_tag).where(
            customer_tag.c.business_id == tag.business_id, customer_tag.c.tag_id == tag.id
        )
    )
    record(actor, "tag.deleted", business_id=tag.business_id, tag=tag.name, customers=used)
    db.session.delete(tag)
    db.session.flush()
    return used


def tag_rows(business_id: int) -> list[tuple[Tag, int]]:
    """Each tag with how many customers have it (one grouped query)."""
    counts = (
        select(customer_tag.c.tag_id, func.count().label("n"))
        .where(customer_tag.c.business_id == business_id)
        .group_by(customer_tag.c.tag_id)
        .subquery()
    )
    return db.session.execute(
        select(Tag, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.tag_id == Tag.id)
        .where(Tag.business_id == business_id)
        .order_by(func.lower(Tag.name))
    ).all()


@bp.route("/tags", methods=["GET", "POST"])
@role_required("owner")
def tags():
    """List tags and add one."""
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = create_tag(current_user.business, form.name.data, form.color.data, current_user)
        except RuleBroken as e:
            apply_rule_error(form, e)
        else:
            db.session.commit()
            flash(f"Tag {tag.name!r} added.", "success")
            return redirect(url_for("settings.tags"), 303)
    rows = tag_rows(current_user.business_id)
    return render_template(
        "settings/tags.html", form=form, rows=rows, colors=COLORS
    ), 422 if form.errors else 200


@bp.post("/tags/<int:tag_id>")
@role_required("owner")
def update_tag_view(tag_id: int):
    """Rename or recolour a tag."""
    tag = owned(Tag, tag_id)
    form = TagForm()
    try:
        if not form.validate_on_submit():
            raise RuleBroken("name", next(iter(form.errors.values()))[0])
        update_tag(tag, form.name.data, form.color.data, current_user)
    except RuleBroken as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"Tag {tag.name!r} saved.", "success")
    return redirect(url_for("settings.tags"), 303)


@bp.post("/tags/<int:tag_id>/delete")
@role_required("owner")
def delete_tag_view(tag_id: int):
    """Delete a tag (customers lose it)."""
    tag = owned(Tag, tag_id)
    name = tag.name
    used = delete_tag(tag, current_user)
    db.session.commit()
    flash(f"Tag {name!r} deleted{f' and removed from {used} customers' if used else ''}.", "success")
    return redirect(url_for("settings.tags"), 303)
