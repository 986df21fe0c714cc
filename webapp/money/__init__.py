"""Money: sales and their reversals, receipt numbers, loyalty points and the store-credit ledger."""

from flask import Blueprint

bp = Blueprint("money", __name__)

from webapp.money import account_views, receivers, receivers_moves, views  # noqa: E402,F401
