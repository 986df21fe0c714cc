"""The generic error pages (never a traceback): one place turns an HTTP error into a page."""

from flask import Flask, render_template, request
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


def render_error(status: int, detail: str | None = None):
    """The generic error page (JSON under /api/)."""
    title, text = MESSAGES.get(status, MESSAGES[500])
    if request.path.startswith("/api/"):
        code = title.lower().replace(" ", "_")
        return {"error": {"code": code, "message": detail or text, "fields": {}}}, status
    return render_template("errors/error.html", status=status, title=title, text=detail or text), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(e):
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
        return render_error(e.code)

    @app.errorhandler(Exception)
    def unexpected(e):
        if app.testing and not app.config.get("SHOW_ERROR_PAGES"):
            raise e  # tests see the real exception
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
