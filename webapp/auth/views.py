"""Sign in, sign out, change password, switch location, liveness."""

import logging
from urllib.parse import unquote, urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select, text
from wtforms import SelectChoice

from webapp.auth import bp
from webapp.auth.forms import ChangePasswordForm, LoginForm, SwitchLocationForm
from webapp.auth.passwords import dummy_verify, hash_password, needs_rehash, password_problem, verify_password
from webapp.extensions import client_address, db, limiter
from webapp.models import Location, StaffUser, utcnow
from webapp.security import start_session

log = logging.getLogger("frontdesk.auth")


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if target and target != unquote(target) and safe_next(unquote(target)) is None:
        return None
    if not target or any(c in target for c in "\\\r\n\t") or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def account_key() -> str:
    """The limiter key for the account being tried (so one office IP does not lock out colleagues)."""
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:255]


def failed(response) -> bool:
    """Only failed sign-ins use up the limit."""
    return response.status_code != 303


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_PER_ACCOUNT"],
    key_func=account_key,
    methods=["POST"],
    deduct_when=failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_PER_ADDRESS"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=failed,
)
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("customers.search"), 303)
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
        if user is None:
            dummy_verify(form.password.data)
        if user is None or not verify_password(user.password_hash, form.password.data) or not user.active:
            log.warning("sign-in failed for %r from %s", email, client_address())
            form.password.errors.append("That email and password do not match an active account.")
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            user.last_sign_in_at = utcnow()
            db.session.commit()
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            login_user(user)
            start_session(user)
            log.info("sign-in of %r (user %s) from %s", email, user.id, client_address())
            return redirect(safe_next(form.next.data) or url_for("customers.search"), 303)
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.errorhandler(429)
def too_many(e):
    """Too many failed sign-ins: say so on the form."""
    form = LoginForm(next=request.args.get("next", ""))
    form.email.data = request.form.get("email", "")
    return render_template(
        "auth/login.html", form=form, locked="Too many failed sign-ins. Wait a few minutes, then try again."
    ), 429


@bp.post("/logout")
def logout():
    """Sign out: this cookie and every other one of this user's stops working."""
    user = db.session.get(StaffUser, current_user.id)
    user.end_sessions()
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
        problem = password_problem(form.new.data, user.email)
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        elif problem:
            form.new.errors.append(problem)
        else:
            user.password_hash = hash_password(form.new.data)
            user.must_change_password = False
            user.end_sessions()
            db.session.commit()
            session.clear()
            login_user(user)
            start_session(user)
            flash("Password changed. Your other sessions have been signed out.", "success")
            return redirect(url_for("customers.search"), 303)
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


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
