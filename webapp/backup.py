"""`flask backup FILE` and `flask restore FILE`: a consistent copy of the database while it is in use.

SQLite: the online backup API (a snapshot of committed data, taken while writers carry on in WAL mode).
PostgreSQL: `pg_dump -Fc` (one snapshot transaction) and `pg_restore --clean --if-exists` in one
transaction. The password goes to the tools in PGPASSWORD, never on their command line.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url

from webapp.extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"


def database_url() -> URL:
    """The app's database URL."""
    return make_url(db.engine.url.render_as_string(hide_password=False))


def backup_sqlite(database: str, target: Path) -> None:
    """Copy the SQLite database at `database` into `target` with the online backup API."""
    target.unlink(missing_ok=True)
    source = sqlite3.connect(database)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one consistent snapshot
        finally:
            copy.close()
    finally:
        source.close()


def restore_sqlite(source_file: Path, database: str) -> None:
    """Replace the SQLite database at `database` by the backup `source_file` (backup API, in place)."""
    with open(source_file, "rb") as f:
        if f.read(16) != SQLITE_HEADER:
            raise click.ClickException(f"{source_file} is not a SQLite backup.")
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    try:
        if source.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
            raise click.ClickException(f"{source_file} is not a Frontdesk database.")
        target = sqlite3.connect(database, timeout=15)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _libpq(url: URL) -> tuple[str, dict]:
    """A libpq URL without the password, and an environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _run(tool: str, *args: str, env: dict) -> None:
    if shutil.which(tool) is None:
        raise click.ClickException(f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    result = subprocess.run([tool, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"{tool} failed: {result.stderr.strip()}")


def backup_postgresql(url: URL, target: Path) -> None:
    """`pg_dump -Fc` of the database into `target`."""
    plain, env = _libpq(url)
    _run("pg_dump", "-Fc", "--no-owner", "-f", str(target), plain, env=env)


def restore_postgresql(source_file: Path, url: URL) -> None:
    """`pg_restore --clean --if-exists` of `source_file` into the database, in one transaction."""
    plain, env = _libpq(url)
    _run(
        "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "-d", plain,
        str(source_file), env=env,
    )  # fmt: skip


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write a consistent backup of the database to FILE (safe while the app runs)."""
    url = database_url()
    if url.get_backend_name() == "sqlite":
        backup_sqlite(url.database, file)
    else:
        backup_postgresql(url, file)
    click.echo(f"Backed up the database to {file} ({file.stat().st_size:,} bytes).")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database's contents by the backup in FILE."""
    if not yes:
        click.confirm("This replaces everything in the database by the backup. Carry on?", abort=True)
    url = database_url()
    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps the old pages or a lock
    if url.get_backend_name() == "sqlite":
        restore_sqlite(file, url.database)
    else:
        restore_postgresql(file, url)
    click.echo(f"Restored the database from {file}.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
