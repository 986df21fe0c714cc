"""`flask export-customers` (the list as CSV, to a file or stdout) and `flask apply-retention`."""

import sys
from urllib.parse import parse_qsl

import click
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from webapp.exports import services
from webapp.extensions import db
from webapp.models import Business
from webapp.search import read_criteria
from webapp.text import counted

EXPORT_LABEL = "flask export-customers"
RETENTION_LABEL = "flask apply-retention"


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(export_customers)
    app.cli.add_command(apply_retention)


def business_named(name: str) -> Business:
    """The business called `name` (any case), or a usage error."""
    business = db.session.scalar(select(Business).where(func.lower(Business.name) == name.strip().lower()))
    if business is None:
        raise click.UsageError(f"No business called {name!r}.")
    return business


@click.command("export-customers")
@click.option("--business", "business_name", required=True, help="Name of the business.")
@click.option("--query", default="", help="The list's query string, e.g. 'tag=3&blacklisted=yes'.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), required=False)
def export_customers(business_name: str, query: str, file: str | None) -> None:
    """Write every customer of the business (or those --query selects) as CSV to FILE, or to stdout;
    the count goes to stderr."""
    business = business_named(business_name)
    criteria = read_criteria(MultiDict(parse_qsl(query)), business.timezone)
    for problem in criteria.problems:
        click.echo(problem, err=True)
    counter = [0]
    chunks = services.export_customers_csv(
        business, criteria, None, actor_label=EXPORT_LABEL, counter=counter
    )
    to_stdout = file in (None, "-")
    out = sys.stdout.buffer if to_stdout else open(file, "wb")  # noqa: SIM115  (closed below)
    try:
        for data in chunks:
            out.write(data)
    finally:
        chunks.close()
        out.flush() if to_stdout else out.close()
        db.session.commit()
    click.echo(f"{counted(counter[0], 'customer')} exported.", err=True)


@click.command("apply-retention")
@click.option("--business", "business_name", default=None, help="Only this business (default: every one).")
@click.option("--apply", "really", is_flag=True, help="Anonymize them (without it, only count).")
def apply_retention(business_name: str | None, really: bool) -> None:
    """Anonymize the customers with no visit and no booking for the years each business set under
    Settings → Data retention. A dry run that only counts unless --apply."""
    if business_name:
        businesses = [business_named(business_name)]
    else:
        businesses = list(db.session.scalars(select(Business).order_by(Business.id)))
    for business in businesses:
        years = business.retention_years
        if years is None:
            click.echo(f"{business.name}: retention is off.")
            continue
        preview = services.preview_retention(business, years)
        since = preview.before.date().isoformat()
        if not really:
            click.echo(
                f"{business.name}: {counted(preview.count, 'customer')} with no visit and no booking "
                f"since {since} "
                f"would be anonymized ({years} years). Run with --apply to anonymize them."
            )
            continue
        done = 0
        with click.progressbar(length=preview.count, label=business.name, file=sys.stderr) as bar:
            while batch := services.anonymize_inactive_batch(business, preview.before, None):
                db.session.commit()
                done += batch
                bar.update(batch)
        services.record_retention_run(business, years, preview.before, done, None, RETENTION_LABEL)
        db.session.commit()
        click.echo(
            f"{business.name}: {counted(done, 'customer')} anonymized "
            f"(no visit and no booking since {since})."
        )
