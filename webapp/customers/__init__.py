"""Customer records: search, create, edit, profile, delete."""

from flask import Blueprint

bp = Blueprint("customers", __name__)

from webapp.customers import views  # noqa: E402,F401
