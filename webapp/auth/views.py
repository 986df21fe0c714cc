"""Sign in, sign out, change password, switch location, liveness."""

import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, text
from wtforms import SelectChoice

from webapp.auth import accounts, bp, throttle
from webapp.auth.forms import ChangePasswordForm, LoginForm, SwitchLocationForm
from webapp.auth.passwords import LENGTH_HINT, warm_dummy_hash
from webapp.edge import owned_or_404, safe_next, show_errors
from webapp.errors import Invalid
from webapp.extensions import client_address, db
from webapp.models import Location, StaffUser
from webapp.security import role_required, start_session

log = logging.getLogger("frontdesk.auth")
LOCKED = "Too many failed sign-ins. Wait a few minutes, then try again."


@bp.record_once
def _warm(state) -> None:
    """Make the dummy hash at start-up, so the first missing account answers as fast as any."""
    with state.app.app_context():
        warm_dummy_hash()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password (failed sign-ins limited per account and address, or per
    device for a browser that signed in to the account before)."""
    if current_user.is_authenticated:
        return redirect(url_for("customers.search"), 303)
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        result = accounts.sign_in(
            form.email.data,
            form.password.data,
            address=client_address(),
            device_cookie=request.cookies.get(throttle.DEVICE_COOKIE),
        )
        if result.throttled:
            return render_template("auth/login.html", form=form, locked=LOCKED), 429
        if result.user is None:
            form.password.errors.append("That email and password do not match an active account.")
        else:
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            login_user(result.user)
            start_session(result.user)
            response = redirect(safe_next(form.next.data) or url_for("customers.search"), 303)
            remember_device(response, result.user.id)
            return response
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


def remember_device(response, user_id: int) -> None:
    """Give this browser a device cookie for the account (its own allowance of failed sign-ins)."""
    response.set_cookie(
        throttle.DEVICE_COOKIE,
        throttle.new_device_cookie(user_id),
        max_age=int(throttle.DEVICE_COOKIE_AGE.total_seconds()),
        path=url_for("auth.login"),
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )


@bp.post("/logout")
def logout():
    """Sign out: this cookie and every other one of this user's stops working."""
    user = db.session.get(StaffUser, current_user.id)
    accounts.signed_out(user)
    db.session.commit()
    log.info("sign-out of user %s", user.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password (required after an owner sets a first one)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_own_password(user, form.current.data, form.new.data)
        except Invalid as e:
            show_errors(form, e)
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            start_session(user)
            flash("Password changed. Your other sessions have been signed out.", "success")
            return redirect(url_for("customers.search"), 303)
    return render_template("auth/password.html", form=form, hint=LENGTH_HINT), 422 if form.errors else 200


@bp.post("/settings/staff/<int:user_id>/password")
@role_required("owner")
def reset_staff_password(user_id: int):
    """Give a colleague a temporary password, shown once; they choose their own at next sign-in."""
    user = owned_or_404(StaffUser, user_id)
    try:
        password = accounts.reset_colleague_password(user, current_user)
    except Invalid as e:
        flash(e.message, "error")
        return redirect(url_for("settings.staff"), 303)
    db.session.commit()
    return render_template("auth/temporary_password.html", user=user, password=password)


@bp.post("/account/location")
def switch_location():
    """Change the signed-in user's current location."""
    form = SwitchLocationForm()
    locations = db.session.scalars(
        select(Location).where(Location.business_id == current_user.business_id, Location.active)
    ).all()
    form.location_id.choices = [SelectChoice(loc.id, loc.name) for loc in locations]
    if form.validate_on_submit():
        current_user.current_location_id = form.location_id.data
        db.session.commit()
        name = next(loc.name for loc in locations if loc.id == form.location_id.data)
        flash(f"You are now at {name}.", "success")
    else:
        flash("Choose one of your business's locations.", "error")
    return redirect(safe_next(request.form.get("next")) or url_for("customers.search"), 303)


@bp.get("/healthz")
def healthz():
    """Liveness: 200 when the app runs and the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
