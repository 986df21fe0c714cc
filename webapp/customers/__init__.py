"""Customer records: search, create, edit, profile, delete."""

from flask import Blueprint

bp = Blueprint("customers", __name__)

from webapp.customers import list_views, views  # noqa: E402,F401
