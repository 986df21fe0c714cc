"""Settings: marketing preferences customers opt in to or out of ("Email offers", "SMS reminders")."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from webapp.audit import record
from webapp.errors import RuleBroken
from webapp.extensions import db
from webapp.models import Business, CustomerConsent, MarketingPreference, StaffUser
from webapp.security import role_required
from webapp.settings import bp
from webapp.settings.views import apply_rule_error, owned


class PreferenceForm(FlaskForm):
    """A preference's name."""

    name = StringField(
        "Preference name", validators=[DataRequired("Give the preference a name."), Length(max=80)]
    )


def _check(business_id: int, name: str, pref_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RuleBroken("name", "Give the preference a name.")
    if len(name) > 80:
        raise RuleBroken("name", "Use at most 80 characters for a preference name.")
    clash = select(MarketingPreference.id).where(
        MarketingPreference.business_id == business_id, func.lower(MarketingPreference.name) == name.lower()
    )
    if pref_id is not None:
        clash = clash.where(MarketingPreference.id != pref_id)
    if db.session.scalar(clash):
        raise RuleBroken("name", f"There is already a preference called {name!r}.")
    return name


def create_preference(business: Business, name: str, actor: StaffUser) -> MarketingPreference:
    """A new marketing preference. Caller commits."""
    pref = MarketingPreference(business_id=business.id, name=_check(business.id, name))
    db.session.add(pref)
    db.session.flush()
    record(actor, "preference.created", business_id=business.id, preference=pref.name)
    return pref


def rename_preference(pref: MarketingPreference, name: str, actor: StaffUser) -> None:
    """Rename a preference (answers stay). Caller commits."""
    name = _check(pref.business_id, name, pref.id)
    if name != pref.name:
        record(actor, "preference.renamed", business_id=pref.business_id, name=[pref.name, name])
        pref.name = name
    db.session.flush()


def set_preference_active(pref: MarketingPreference, active: bool, actor: StaffUser) -> None:
    """Retire a preference (hidden from forms, answers kept) or bring it back."""
    if pref.active != active:
        pref.active = active
        record(
            actor,
            "preference.retired" if not active else "preference.restored",
            business_id=pref.business_id,
            preference=pref.name,
        )
    db.session.flush()


def preference_rows(business_id: int) -> list:
    """Each preference with how many customers opted in and out (one grouped query)."""
    opted_in = func.count(CustomerConsent.customer_id).filter(CustomerConsent.opted_in.is_(True))
    opted_out = func.count(CustomerConsent.customer_id).filter(CustomerConsent.opted_in.is_(False))
    return db.session.execute(
        select(MarketingPreference, opted_in, opted_out)
        .outerjoin(CustomerConsent, CustomerConsent.preference_id == MarketingPreference.id)
        .where(MarketingPreference.business_id == business_id)
        .group_by(MarketingPreference.id)
        .order_by(MarketingPreference.active.desc(), func.lower(MarketingPreference.name))
    ).all()


@bp.route("/preferences", methods=["GET", "POST"])
@role_required("owner")
def preferences():
    """List marketing preferences and add one."""
    form = PreferenceForm()
    if form.validate_on_submit():
        try:
            pref = create_preference(current_user.business, form.name.data, current_user)
        except RuleBroken as e:
            apply_rule_error(form, e)
        else:
            db.session.commit()
            flash(f"Preference {pref.name!r} added.", "success")
            return redirect(url_for("settings.preferences"), 303)
    rows = preference_rows(current_user.business_id)
    return render_template("settings/preferences.html", form=form, rows=rows), 422 if form.errors else 200


@bp.post("/preferences/<int:pref_id>")
@role_required("owner")
def rename_preference_view(pref_id: int):
    """Rename a preference."""
    pref = owned(MarketingPreference, pref_id)
    form = PreferenceForm()
    try:
        if not form.validate_on_submit():
            raise RuleBroken("name", next(iter(form.errors.values()))[0])
        rename_preference(pref, form.name.data, current_user)
    except RuleBroken as e:
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(f"Preference {pref.name!r} saved.", "success")
    return redirect(url_for("settings.preferences"), 303)


@bp.post("/preferences/<int:pref_id>/<any(retire, restore):action>")
@role_required("owner")
def toggle_preference(pref_id: int, action: str):
    """Retire a preference or bring it back."""
    pref = owned(MarketingPreference, pref_id)
    set_preference_active(pref, action == "restore", current_user)
    db.session.commit()
    flash(
        f"Preference {pref.name!r} {'restored' if pref.active else 'retired; answers are kept'}.", "success"
    )
    return redirect(url_for("settings.preferences"), 303)
