"""Browser fixtures: a live server, Debian's chromium, the pinned htmx served from the npm package, axe."""

import os
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from webapp.config import HTMX_VERSION

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "htmx"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def htmx_js() -> bytes:
    """The exact htmx build the CDN serves, from the npm registry (cached in .cache/, never committed)."""
    target = CACHE / f"htmx-{HTMX_VERSION}.min.js"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"htmx.org@{HTMX_VERSION}", "--silent"],
            cwd=CACHE,
            check=True,
            capture_output=True,
        )
        archive = CACHE / f"htmx.org-{HTMX_VERSION}.tgz"
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/dist/htmx.min.js")
            target.write_bytes(member.read())
        archive.unlink()
    return target.read_bytes()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, no downloads, no background traffic."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: install it with apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
            "--no-sandbox",
        ],
    }


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP on 127.0.0.1 in a thread, for the whole session (per backend)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


@pytest.fixture
def desk(page, live_server, htmx_js, app):
    """A page that loads the real htmx (integrity-checked) through the CDN URL, and the server's URL."""

    def fulfil(route):
        route.fulfill(
            status=200,
            body=htmx_js,
            content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    page.route(app.config["HTMX_URL"], fulfil)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.base = live_server.url
    page.js_errors = errors
    page.set_default_timeout(10_000)
    yield page
