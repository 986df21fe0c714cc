"""The JSON API under /api/v1/merchant (calendar, website widgets, point of sale)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1/merchant")

from webapp.api import calendar, stats  # noqa: E402,F401
