"""Who may see what: sign-in required everywhere, role checks, session lifetime and security headers."""

import time
from datetime import timedelta
from functools import wraps

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import bindparam, select

from webapp.database import utcnow
from webapp.extensions import db, login_manager
from webapp.models import ApiKey, StaffUser
from webapp.models.api import split_key
from webapp.models.staff import ROLES

# Endpoints an anonymous visitor may reach. Everything else needs a signed-in user.
PUBLIC_ENDPOINTS = {"auth.login", "auth.healthz", "static", "api_docs.openapi_json", "api_docs.docs"}
# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ENDPOINTS = {"auth.change_password", "auth.logout", "static", "auth.healthz"}


def role_required(role: str):
    """Mark a view as needing `role` or above; enforced for every request in `check_access`."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        wrapped.min_role = role
        return wrapped

    return decorate


def min_role_of(endpoint: str) -> str | None:
    """The role an endpoint needs, or None when it is public."""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "min_role", "receptionist")


# An API key's access level passes the same checks as this staff role; a `read` key only on safe methods.
KEY_ROLES = {"read": "receptionist", "desk": "receptionist", "manager": "manager"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
KEY_BY_PREFIX = select(ApiKey).where(ApiKey.prefix == bindparam("prefix"))
LAST_USED_EVERY = timedelta(minutes=5)  # `last_used_at` is written at most this often, not per request


def role_allows(role: str, need: str | None, method: str = "GET", *, read_only: bool = False) -> bool:
    """The one permission check for staff and keys: `role` ranks at or above `need` (and a read-only
    principal asks with a safe method)."""
    if need is None:
        return True
    if read_only and method not in SAFE_METHODS:
        return False
    return ROLES.index(role) >= ROLES.index(need)


def authenticate_key(header: str) -> ApiKey | None:
    """The live key an `Authorization: Bearer fd_<prefix>_<secret>` header names, or None: one indexed
    lookup by prefix, then the digest compared in constant time."""
    scheme, _, raw = header.partition(" ")
    parts = split_key(raw.strip()) if scheme.lower() == "bearer" else None
    if parts is None:
        return None
    key = db.session.scalar(KEY_BY_PREFIX, {"prefix": parts[0]})
    if key is None or key.revoked_at is not None or not key.matches(parts[1], current_app.secret_key):
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        key.last_used_at = now
        db.session.commit()
    return key


def check_key_access(endpoint: str):
    """An API request with a key: 401 for a bad key, 403 when its level is below the endpoint's."""
    key = authenticate_key(request.headers["Authorization"])
    if key is None:
        abort(401)
    need = min_role_of(endpoint)
    if not role_allows(KEY_ROLES[key.access], need, request.method, read_only=key.access == "read"):
        abort(403)
    g.api_key, g.business = key, key.business
    return None


# Built once: every request loads its user, and a statement reused keeps SQLAlchemy's cache key ready.
USER_BY_ID = select(StaffUser).where(StaffUser.id == bindparam("uid"))


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """Accept a session only while the user is active and its session version is current."""
    try:
        raw_id, raw_version = user_id.split(":")
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.scalar(USER_BY_ID, {"uid": uid})
    if user is None or not user.active or user.session_version != version:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Send an anonymous visitor to sign in; htmx requests redirect the whole page."""
    if request.path.startswith("/api/"):
        abort(401)  # problem+json (webapp/error_pages.py)
    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        return "", 401, {"HX-Redirect": target}
    return redirect(target, 303)


def check_access():
    """Before every request: expire old sessions, require sign-in, enforce the view's role."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        return check_key_access(endpoint)
    if current_user.is_authenticated and session_expired():
        logout_user()
        session.clear()
        flash("Your session has ended. Sign in again to carry on.", "info")
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if request.path.startswith("/api/"):
            abort(403)  # the API answers problem+json, never a redirect to a page
        return redirect(url_for("auth.change_password"), 303)
    if not role_allows(current_user.role, min_role_of(endpoint), request.method):
        abort(403)
    g.business = current_user.business
    return None


def session_expired() -> bool:
    """True when the session is past its idle or absolute lifetime; otherwise note this visit."""
    now = int(time.time())
    signed_in_at = session.get("signed_in_at", 0)
    seen_at = session.get("seen_at", 0)
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    if now - signed_in_at > absolute or now - seen_at > idle:
        return True
    if now - seen_at > 30:  # refresh the idle clock without re-issuing the cookie on every request
        session["seen_at"] = now
    return False


def start_session(user: StaffUser) -> None:
    """Begin a fresh session for `user` (the caller has cleared the old one)."""
    now = int(time.time())
    session["signed_in_at"] = now
    session["seen_at"] = now
    session.permanent = True


def content_security_policy() -> str:
    """Scripts only from this site and the pinned htmx build; nothing inline (built once per app)."""
    policy = current_app.extensions.get("frontdesk_csp")
    if policy is None:
        policy = current_app.extensions["frontdesk_csp"] = csp_of(current_app.config["HTMX_URL"])
    return policy


def csp_of(htmx_url: str) -> str:
    """The policy's text."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {htmx_url}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def add_security_headers(response):
    """Headers every response carries."""
    h = response.headers
    h.setdefault("Content-Security-Policy", content_security_policy())
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # HTTPS only outside development
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    response.vary.add("HX-Request")
    if request.endpoint != "static" and (g.get("api_key") is not None or current_user.is_authenticated):
        h["Cache-Control"] = "no-store"
    return response


def start_clock() -> None:
    """Note when the request started (for `Server-Timing`)."""
    g.request_started = time.perf_counter()


def server_timing(response):
    """Answer every request with a `Server-Timing` header (the benchmarks read it)."""
    started = g.get("request_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def init_app(app: Flask) -> None:
    """Install the request clock, the access check and headers."""
    login_manager.session_protection = "basic"
    app.before_request_funcs.setdefault(None, []).insert(0, start_clock)  # before every other hook
    app.before_request(check_access)
    app.after_request(add_security_headers)
    app.after_request(server_timing)
