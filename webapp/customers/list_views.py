"""The customer list and search screen."""

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import select

from webapp.customers import bp
from webapp.extensions import db
from webapp.models import Customer


@bp.get("/customers")
def search():
    """Search and list customers."""
    q = request.args.get("q", "")
    customers = db.session.scalars(
        select(Customer)
        .where(Customer.business_id == current_user.business_id, Customer.merged_into_id.is_(None))
        .order_by(Customer.created_at.desc())
        .limit(30)
    ).all()
    return render_template("customers/search.html", customers=customers, q=q)
