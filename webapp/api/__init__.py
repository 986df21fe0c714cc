"""The JSON API under /api/v1/merchant (calendar, website widgets, point of sale, integrations)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1/merchant")
docs_bp = Blueprint("api_docs", __name__)  # /api/v1/openapi.json and /api/docs (public)
keys_bp = Blueprint("api_keys", __name__, cli_group=None)  # the owner's key screen and `create-api-key`

from webapp.api import (  # noqa: E402,F401
    actions,
    blacklist,
    calendar,
    cards,
    conventions,
    customers,
    keys_views,
    money,
    openapi,
    stats,
)
