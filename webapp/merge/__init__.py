"""Duplicate candidates and merging customers."""

from flask import Blueprint

bp = Blueprint("merge", __name__, cli_group=None)

from webapp.merge import commands, receivers, views  # noqa: E402,F401
