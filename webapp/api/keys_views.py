"""The owner's API key screen (`/settings/api-keys`) and `flask create-api-key`."""

import click
from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.api import keys_bp
from webapp.api.forms import ApiKeyForm
from webapp.api.keys import ACCESS_LABELS, business_keys, create_key, revoke_key
from webapp.edge import owned_or_404, show_errors
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import ApiKey, Business
from webapp.models.api import ACCESS_LEVELS
from webapp.security import role_required


@keys_bp.route("/settings/api-keys", methods=["GET", "POST"])
@role_required("owner")
def index():
    """List the business's keys; create one (its full text shown on this answer only)."""
    form = ApiKeyForm()
    new_key = None
    if form.validate_on_submit():
        try:
            _, new_key = create_key(current_user.business, form.name.data, form.access.data, current_user)
        except Invalid as e:
            show_errors(form, e)
        else:
            db.session.commit()
            form = ApiKeyForm(formdata=None)
    status = 422 if form.errors else (201 if new_key else 200)
    keys = business_keys(current_user.business_id)
    return render_template(
        "api/keys.html", form=form, keys=keys, new_key=new_key, access_labels=ACCESS_LABELS
    ), status


@keys_bp.post("/settings/api-keys/<int:key_id>/revoke")
@role_required("owner")
def revoke(key_id):
    """Revoke a key: requests made with it answer 401 from now on."""
    key = owned_or_404(ApiKey, key_id)
    if revoke_key(key, current_user):
        db.session.commit()
        flash(f"The key {key.name!r} is revoked.", "success")
    return redirect(url_for("api_keys.index"), 303)


@keys_bp.cli.command("create-api-key")
@click.option("--business", "business_name", required=True, help="The business's name.")
@click.option("--name", required=True, help="What will use the key, e.g. 'Website widget'.")
@click.option("--access", type=click.Choice(ACCESS_LEVELS), default="read", show_default=True)
def create_api_key(business_name: str, name: str, access: str) -> None:
    """Create an API key; the key is printed alone on the last line (it is not shown again)."""
    business = db.session.scalar(select(Business).where(Business.name == business_name))
    if business is None:
        raise click.UsageError(f"No business is called {business_name!r}.")
    try:
        key, text = create_key(business, name, access, None)
    except Invalid as e:
        raise click.UsageError(e.message) from None
    db.session.commit()
    click.echo(f"Created API key {key.name!r} ({key.access}) for {business.name}; it is shown only once:")
    click.echo(text)
