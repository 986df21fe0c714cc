"""`flask import-customers`: the same import as the screens (webapp/imports/services.py), run in the
terminal with a progress bar; for files of any size (the upload limit does not apply)."""

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.imports import services
from webapp.imports.mapping import FIELDS
from webapp.models import Business


def init_app(app: Flask) -> None:
    app.cli.add_command(import_customers)


def column_index(headers: list[str], column: str) -> int:
    """A --map column: a header (case-insensitive) or a 1-based column number."""
    lowered = [h.strip().lower() for h in headers]
    if column.strip().lower() in lowered:
        return lowered.index(column.strip().lower())
    if column.isdigit() and 1 <= int(column) <= len(headers):
        return int(column) - 1
    raise click.UsageError(f"--map: the file has no column {column!r} (its columns: {', '.join(headers)}).")


@click.command("import-customers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--business", "business_name", required=True, help="Name of the business.")
@click.option(
    "--policy",
    type=click.Choice(list(services.POLICIES)),
    default="skip",
    show_default=True,
    help="Rows matching a customer by email or phone: skip, update (file wins), fill (empty fields only).",
)
@click.option("--dry-run", is_flag=True, help="Count what would happen; write nothing.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help=f"Map a column (header or number) onto a field, overriding the guess. Fields: {', '.join(FIELDS)}.",
)
def import_customers(
    file: Path, business_name: str, policy: str, dry_run: bool, maps: tuple[str, ...]
) -> None:
    """Import customers from a CSV file (the columns are guessed from the headers, like the screens)."""
    business = db.session.scalar(select(Business).where(func.lower(Business.name) == business_name.lower()))
    if business is None:
        raise click.UsageError(f"No business called {business_name!r}.")
    try:
        job = services.upload(business, None, file.name, file.read_bytes(), max_bytes=None)
        mapping = {int(k): v for k, v in job.mapping.items()}
        for item in maps:
            column, sep, field = item.rpartition("=")
            if not sep or not column:
                raise click.UsageError(f"--map takes COLUMN=FIELD, not {item!r}.")
            if field not in FIELDS:
                raise click.UsageError(f"--map: unknown field {field!r}; one of {', '.join(FIELDS)}.")
            mapping[column_index(job.headers, column)] = field
        services.set_mapping(job, mapping, policy)
    except Invalid as e:
        db.session.rollback()
        raise click.ClickException(e.message) from None
    shown = ", ".join(f"{job.headers[int(i)]!r}→{f}" for i, f in job.mapping.items() if f != "ignore")
    click.echo(f"{job.total_rows:,} rows; columns: {shown}", err=True)
    if dry_run:
        counts = services.dry_run(job)
        db.session.rollback()  # nothing of a dry run is kept, not even the upload
        click.echo("Dry run, nothing written: " + summary(counts))
        return
    db.session.commit()
    with click.progressbar(length=job.total_rows, label="Importing", file=sys.stderr) as bar:
        done = {"n": 0}

        def advance(processed: int, total: int) -> None:
            bar.update(processed - done["n"])
            done["n"] = processed

        try:
            counts = services.run(job.id, advance)
        except Invalid as e:
            raise click.ClickException(e.message) from None
    click.echo(f"Import {job.id}: " + summary(counts))


def summary(counts: services.Counts) -> str:
    return ", ".join(f"{getattr(counts, k):,} {k}" for k in counts._fields)
