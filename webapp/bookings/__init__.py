"""Bookings: today's list, new booking, complete / cancel / no-show."""

from flask import Blueprint

bp = Blueprint("bookings", __name__, cli_group=None)

from webapp.bookings import commands, receivers, views  # noqa: E402,F401
