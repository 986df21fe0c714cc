"""Taking data out: the customer list as CSV, one person's data as JSON (access requests), and the
retention rule that anonymizes customers long gone."""

from flask import Blueprint

bp = Blueprint("exports", __name__, cli_group=None)

from webapp.exports import views  # noqa: E402,F401
