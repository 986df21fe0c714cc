"""The API's conventions in one place: who is acting, CSRF for sessions, errors as problem+json, ETag and
If-Match, limits per key, JSON answers."""

from flask import Response, current_app, g, request
from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from webapp.api import bp
from webapp.api.registry import BadInput
from webapp.error_pages import problem
from webapp.errors import Conflict, ContactTaken, DomainError, Invalid, NotFound, PossibleDuplicate
from webapp.extensions import csrf, db, limiter
from webapp.models import StaffUser
from webapp.models.api import split_key

# Service field names as the API names them.
API_FIELDS = {"tag_ids": "tags", "consents": "marketing_preferences", None: "body"}

# Keys authenticate every request themselves; a signed-in session's writes are checked below instead.
csrf.exempt(bp)


def rate_limit() -> str:
    """Requests a key (or a signed-in user, or an address) may make (API_RATE_LIMIT, e.g. "600/minute")."""
    return current_app.config.get("API_RATE_LIMIT", "600/minute")


def client_key() -> str:
    """What the limit counts against: the key's visible prefix, the signed-in user, else the address."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    parts = split_key(raw.strip()) if scheme.lower() == "bearer" else None
    if parts is not None:
        return f"key:{parts[0]}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"addr:{request.remote_addr}"


limiter.limit(rate_limit, key_func=client_key)(bp)


@bp.before_request
def check_session_csrf():
    """A signed-in session's writes carry the CSRF token in `X-CSRFToken`, as the screens' htmx does."""
    if g.get("api_key") is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()


@bp.after_request
def no_store(response: Response) -> Response:
    """Customer data is never cached, whoever asked (a key's answers too, not only a session's)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def acting_user() -> StaffUser | None:
    """The staff member acting, or None for an API key (audit.record then names the key)."""
    return None if g.get("api_key") is not None else current_user._get_current_object()


def actor_id() -> str:
    """Who is acting, as idempotency records key it."""
    return f"key:{g.api_key.id}" if g.get("api_key") is not None else f"user:{current_user.id}"


def answer(model: BaseModel, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer from a response model."""
    response = Response(model.model_dump_json(), status, mimetype="application/json")
    response.headers.extend(headers or {})
    return response


# --- ETag and If-Match -------------------------------------------------------------------------------


def etag(version: int) -> str:
    """A customer's ETag: its version, quoted."""
    return f'"{version}"'


def check_if_match(version: int) -> bool:
    """True when the request gave If-Match (and it names this version); 412, nothing written, when not."""
    header = request.headers.get("If-Match")
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    if "*" not in tags and str(version) not in tags:
        raise Precondition(version)
    return True


class Precondition(DomainError):
    """If-Match names a version the record no longer has."""

    status = 412

    def __init__(self, version: int):
        self.version = version
        self.message = f"The record is at version {version}; read it again and resend with that If-Match."
        super().__init__(self.message)


# --- domain errors as problem+json ------------------------------------------------------------------


def field_name(name: str | None) -> str:
    """A service's field name as the API names it."""
    return API_FIELDS.get(name, name)


@bp.errorhandler(IntegrityError)
def integrity_error(e: IntegrityError):
    """A unique index refused a row another request wrote at the same moment (the same email, a new tag's
    name): the checks ran before it committed. Nothing was written; the retry sees the other row."""
    db.session.rollback()
    return problem(409, "This conflicts with a change made at the same moment. Try again.", code="conflict")


@bp.errorhandler(DomainError)
def domain_error(e: DomainError):
    """A broken rule as problem+json: 422 with field errors, 409 for a taken contact (naming its owner)
    or a change made meanwhile, 412 for a stale If-Match, 404, and the input errors of the schemas."""
    db.session.rollback()  # a service may have flushed part of the change
    if isinstance(e, BadInput):
        return problem(e.status, e.message, errors=e.errors if e.status == 422 else None)
    errors = {field_name(f): [m] for f, m in e.problems.items()} if isinstance(e, Invalid) else None
    if isinstance(e, ContactTaken):
        owners = {field_name(f): str(c.id) for f, c in e.owners.items()}
        return problem(409, e.message, code="contact_taken", errors=errors, owners=owners)
    if isinstance(e, Invalid):
        return problem(422, e.message or "Some values are invalid.", errors=errors)
    if isinstance(e, Precondition):
        return problem(412, e.message, headers={"ETag": etag(e.version)})
    if isinstance(e, Conflict):
        return problem(409, e.message, code="changed_meanwhile")
    if isinstance(e, PossibleDuplicate):
        return problem(409, e.message, code="possible_duplicate", similar=[str(c.id) for c in e.similar])
    if isinstance(e, NotFound):
        return problem(404, e.message)
    return problem(e.status, e.message)
