"""The calendar customer picker (an embeddable fragment)."""

from flask import Blueprint

bp = Blueprint("picker", __name__)

from webapp.picker import views  # noqa: E402,F401
