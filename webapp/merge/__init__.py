"""Duplicate candidates and merging customers."""

from flask import Blueprint

bp = Blueprint("merge", __name__)
