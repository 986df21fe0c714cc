"""Every route needs sign-in and the right role; the table is gathered from tests/access_*.py."""

import importlib
import re
from pathlib import Path

import pytest

from webapp.models.staff import ROLES

TABLE: dict[str, str | None] = {}
for path in sorted(Path(__file__).parent.glob("access_*.py")):
    TABLE.update(importlib.import_module(path.stem).ACCESS)


def sample_url(rule) -> str:
    """A URL for `rule` with placeholder values for its arguments."""
    url = rule.rule
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        value = {"IntegerConverter": "1", "UUIDConverter": "00000000-0000-4000-8000-000000000000"}.get(
            conv, "x"
        )
        if conv == "AnyConverter":
            value = sorted(rule._converters[arg].items)[0] if hasattr(rule._converters[arg], "items") else "x"
        url = re.sub(r"<(?:[^>:]+:)?" + arg + r"(?:\([^)]*\))?>", value, url)
    return url


def test_every_route_is_in_the_authorization_table(app):
    missing = sorted({r.endpoint for r in app.url_map.iter_rules()} - set(TABLE))
    assert not missing, f"add these endpoints to a tests/access_*.py table: {missing}"


def test_the_code_enforces_the_table(app):
    from webapp.security import min_role_of

    with app.test_request_context():
        wrong = {
            e: (min_role_of(e), want)
            for e, want in TABLE.items()
            if e in app.view_functions and min_role_of(e) != want
        }
    assert not wrong, wrong


def test_every_route_sends_anonymous_users_to_sign_in(app, client):
    for rule in app.url_map.iter_rules():
        if TABLE.get(rule.endpoint, "receptionist") is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(sample_url(rule), method=method)
            if rule.rule.startswith("/api/"):
                assert r.status_code == 401, (method, rule.rule, r.status_code)
            else:
                assert r.status_code == 303, (method, rule.rule, r.status_code)
                assert r.headers["Location"].startswith("/login"), (method, rule.rule)


@pytest.mark.parametrize("role", ROLES)
def test_roles_below_the_table_get_403(app, login_as, role):
    client = login_as(role)
    for rule in app.url_map.iter_rules():
        need = TABLE.get(rule.endpoint)
        if need is None or ROLES.index(role) >= ROLES.index(need):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(sample_url(rule), method=method)
            assert r.status_code == 403, (role, method, rule.rule, r.status_code)
