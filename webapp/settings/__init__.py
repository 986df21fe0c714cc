"""Owner settings: the business, its locations and its staff."""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from webapp.settings import views  # noqa: E402,F401
