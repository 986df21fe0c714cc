"""Management commands: create-business, create-user, demo-data, check-phones (recount: bookings)."""

import click
from flask import Flask
from sqlalchemy import func, select

from webapp.customers.phone_check import retired_phones
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business
from webapp.models.staff import ROLES
from webapp.settings import services as settings_services


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(create_business)
    app.cli.add_command(create_user)
    app.cli.add_command(demo_data)
    app.cli.add_command(check_phones)
    from webapp import backup

    backup.init_app(app)  # backup, restore
    from webapp.imports import commands as import_commands

    import_commands.init_app(app)  # import-customers
    from webapp.exports import commands as export_commands

    export_commands.init_app(app)  # export-customers, apply-retention


@click.command("create-business")
@click.argument("name")
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone, e.g. Europe/London.")
@click.option("--region", default="GB", show_default=True, help="Default phone region (ISO 3166 alpha-2).")
@click.option("--currency", default="GBP", show_default=True, help="ISO 4217 currency code.")
def create_business(name: str, timezone: str, region: str, currency: str) -> None:
    """Create a business (tenant) with one location."""
    try:
        business = settings_services.create_business(
            name, timezone=timezone, region=region, currency=currency
        )
    except Invalid as e:
        raise click.UsageError(e.message) from None
    db.session.commit()
    click.echo(f"Created business {business.name!r} (id {business.id}).")


@click.command("create-user")
@click.argument("email")
@click.option("--business", "business_name", required=True, help="Name of the business.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, business_name: str, role: str, name: str, password: str) -> None:
    """Create a staff account that can sign in at once."""
    business = db.session.scalar(select(Business).where(func.lower(Business.name) == business_name.lower()))
    if business is None:
        raise click.UsageError(f"No business called {business_name!r}. Create it with create-business.")
    try:
        user = settings_services.create_staff(
            business,
            email=email,
            name=name or email.split("@")[0],
            role=role,
            password=password,
            actor=None,
            must_change=False,
        )
    except Invalid as e:
        raise click.UsageError(e.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} in {business.name!r}.")


@click.command("demo-data")
@click.option("--customers", "count", default=500, show_default=True, help="How many customers to add.")
@click.option("--seed", default=1, show_default=True, help="The same seed gives the same data.")
@click.option("--if-empty", is_flag=True, help="Only when the database has no business yet (make run).")
def demo_data(count: int, seed: int, if_empty: bool) -> None:
    """Create a demo business with an owner and COUNT customers with bookings."""
    from webapp.demo import DEMO_PASSWORD, DEMO_STAFF, add_demo_money, load_demo

    if if_empty and db.session.scalar(select(func.count()).select_from(Business)):
        click.echo(
            f"The database already has data. Demo sign-in (if it is the demo database): "
            f"{DEMO_STAFF[0][0]} / {DEMO_PASSWORD}"
        )
        return
    result = load_demo(count, seed)
    money = add_demo_money(seed)
    click.echo(
        f"Demo business {result.business!r}: {result.customers:,} customers, "
        f"{result.bookings:,} bookings added in {result.seconds:.1f} s; "
        f"{money['cards']} stamp cards, {money['owing']} customers buying on account."
    )
    click.echo(f"Sign in at /login as {result.email} with password {result.password}")


@click.command("check-phones")
@click.option("--business", "business_name", default=None, help="Only this business (by name).")
def check_phones(business_name: str | None) -> None:
    """List the stored phone numbers the installed phone metadata no longer accepts (per business,
    customer id and number): they stay as they are until someone edits them."""
    business_id = None
    if business_name:
        business_id = db.session.scalar(
            select(Business.id).where(func.lower(Business.name) == business_name.lower())
        )
        if business_id is None:
            raise click.UsageError(f"No business called {business_name!r}.")
    found = 0
    for row in retired_phones(business_id):
        found += 1
        click.echo(f"{row.business}\t{row.customer_id}\t{row.phone}")
    if found:
        plural = "s are" if found != 1 else " is"
        click.echo(
            f"{found:,} stored number{plural} no longer valid for the phone metadata; edit them when you can."
        )
    else:
        click.echo("Every stored phone number is still valid.")
