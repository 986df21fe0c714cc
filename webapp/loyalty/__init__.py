"""Loyalty: stamp-card programs, customers' cards with scannable codes, and card links by email."""

from flask import Blueprint

bp = Blueprint("loyalty", __name__)

from webapp.loyalty import receivers, views  # noqa: E402,F401
