"""Owner settings: the business, its locations, its staff, tags and marketing preferences."""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from webapp.settings import views  # noqa: E402,F401
