"""The generic error pages (never a traceback): one place turns an HTTP error into a page."""

from flask import Flask, Response, json, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.errors import NotFound
from webapp.extensions import db

MESSAGES = {
    400: ("Something in that request was not right", "Go back, reload the page and try again."),
    401: ("Please sign in", "Your session may have ended."),
    403: ("Not allowed", "Your role does not allow this. Ask a manager or the owner."),
    404: ("Not found", "That page or record does not exist, or belongs to another business."),
    405: ("Not allowed", "That action cannot be done this way."),
    409: ("Changed elsewhere", "Someone else changed this in the meantime. Reload and try again."),
    413: ("Too large", "What you sent is larger than Frontdesk accepts."),
    429: ("Slow down", "Too many requests. Wait a minute and try again."),
    500: ("Something went wrong", "The problem has been logged. Try again in a moment."),
}


# What an API caller is told, where a page's wording speaks of pages and forms.
API_MESSAGES = {
    400: "The request could not be read.",
    401: "Send a valid API key (Authorization: Bearer <key>) or sign in.",
    403: "This key's access level (or your role) does not allow this.",
    404: "No such resource here, or it belongs to another business.",
    405: "This resource does not answer that method.",
    413: "The request body is larger than Frontdesk accepts.",
    415: "Send the body as application/json.",
    429: "Too many requests. Wait as long as Retry-After says and try again.",
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}
TITLES = {412: "Precondition failed", 415: "Unsupported media type", 422: "Invalid input"}


def problem(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict | None = None,
    **extra,
) -> Response:
    """An RFC 9457 `application/problem+json` answer: the one shape of every error under /api/."""
    title = TITLES.get(status) or MESSAGES.get(status, MESSAGES[500])[0]
    code = code or CODES.get(status, "error")
    body = {
        "type": f"/api/docs#problem-{code}",
        "title": title,
        "status": status,
        "detail": detail or API_MESSAGES.get(status) or MESSAGES.get(status, MESSAGES[500])[1],
        "code": code,
        **extra,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status, mimetype="application/problem+json")
    response.headers.extend(headers or {})
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="Frontdesk API"')
    return response


def render_error(status: int, detail: str | None = None, headers: dict | None = None):
    """The generic error page (problem+json under /api/)."""
    title, text = MESSAGES.get(status, MESSAGES[500])
    if request.path.startswith("/api/"):
        return problem(status, detail, headers=headers)
    return render_template("errors/error.html", status=status, title=title, text=detail or text), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        if request.path.startswith("/api/"):
            detail = "Send the session's CSRF token in the X-CSRFToken header, or use an API key."
            return problem(400, detail, code="csrf_failed")
        return render_error(
            400, "This form has expired or did not come from Frontdesk. Reload the page and try again."
        )

    @app.errorhandler(NotFound)
    def not_found(e):
        return render_error(404)

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code is None or e.code < 400:
            return e
        kept = {k: v for k, v in e.get_headers() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
        return render_error(e.code, headers=kept)

    @app.errorhandler(Exception)
    def unexpected(e):
        if app.testing and not app.config.get("SHOW_ERROR_PAGES"):
            raise e  # tests see the real exception
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
