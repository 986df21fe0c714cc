"""Customer record screens: create, edit, profile, delete."""

from flask import redirect, url_for

from webapp.customers import bp


@bp.get("/")
def home():
    """The desk opens on the customer search."""
    return redirect(url_for("customers.search"))
