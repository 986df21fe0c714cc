"""The calendar customer picker (an embeddable fragment)."""

from flask import Blueprint

bp = Blueprint("picker", __name__)
