"""Blacklist: restrict customers, review and lift restrictions."""

from flask import Blueprint

bp = Blueprint("blacklist", __name__)
