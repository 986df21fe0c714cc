"""Blacklist: restrict customers, review and lift restrictions."""

from flask import Blueprint

bp = Blueprint("blacklist", __name__)

from webapp.blacklist import receivers, views  # noqa: E402,F401
