"""Signing staff in and out, their own password, the owner's Activity screen, and the liveness check."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from webapp.auth import activity, views  # noqa: E402,F401
