"""The task queue (Huey): SQLite storage in instance/ by default (no extra server), Redis in production.

Settings (environment variables, or the app's config of the same name):
- HUEY_URL: unset -> SqliteHuey in instance/huey.sqlite3; `redis://host:6379/0` (or rediss://) ->
  RedisHuey; `sqlite:////abs/path.sqlite3` -> SqliteHuey there; `memory://` -> in-process only.
- HUEY_IMMEDIATE: run tasks at once in the calling process (the default when the app is testing).

The worker: `huey_consumer webapp.worker.huey --workers 2 --worker-type thread` (from the project
folder, with the web process's DATABASE_URL and SECRET_KEY). webapp/worker.py builds the app the tasks
run in and imports every feature's tasks; tasks are plain functions taking ids, each run in an app
context (`in_app_context`). This module stays below the features: it imports none of them.
"""

import os
from functools import wraps
from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "instance" / "huey.sqlite3"
NAME = "frontdesk"


def make_huey(url: str | None) -> Huey:
    """The Huey instance for a HUEY_URL."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(NAME, url=url)
    if url and url.startswith("memory:"):
        return MemoryHuey(NAME)
    if url and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
    elif url:
        raise RuntimeError(f"HUEY_URL must be redis://…, sqlite:///path or memory://, not {url!r}")
    else:
        path = DEFAULT_SQLITE
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(NAME, filename=str(path))


huey = make_huey(os.environ.get("HUEY_URL") or None)
huey.configured_url = os.environ.get("HUEY_URL") or None
_worker_app = None
_app_factory = None


def set_app_factory(factory) -> None:
    """How a worker process makes its app (webapp/worker.py gives `create_app`)."""
    global _app_factory
    _app_factory = factory


def configure(app) -> Huey:
    """Apply the app's HUEY_URL and HUEY_IMMEDIATE to the instance (idempotent); return it."""
    url = app.config.get("HUEY_URL") or None
    if url != huey.configured_url:
        other = make_huey(url)
        huey.storage_class, huey.storage_kwargs = other.storage_class, other.storage_kwargs
        huey.configured_url = url
        if not huey.immediate:
            huey.storage = other.storage
    immediate = app.config.get("HUEY_IMMEDIATE")
    if immediate is None:
        immediate = app.testing
    if bool(immediate) != huey.immediate:
        huey.immediate = bool(immediate)
    return huey


def worker_app():
    """The app a worker process runs its tasks in (built once per process)."""
    global _worker_app
    if _worker_app is None:
        if _app_factory is None:
            raise RuntimeError("start the worker as `huey_consumer webapp.worker.huey` (webapp/worker.py)")
        _worker_app = _app_factory()
    return _worker_app


def in_app_context(function):
    """Run a task body inside an app context: the caller's when there is one (immediate mode),
    else the worker's own app."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        from flask import has_app_context

        if has_app_context():
            return function(*args, **kwargs)
        with worker_app().app_context():
            return function(*args, **kwargs)

    return wrapper
