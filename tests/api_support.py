"""Helpers for the API tests: a key's headers, URLs, checks of problem+json answers."""

from webapp.api.keys import create_key
from webapp.extensions import db

BASE = "/api/v1/merchant"
ACCESS_LEVELS = ("read", "desk", "manager")


def key_headers(business, access="manager", name=None) -> dict:
    """Authorization headers with a fresh key of `business` at `access`."""
    _, text = create_key(business, name or f"{access} key", access, None)
    db.session.commit()
    return {"Authorization": f"Bearer {text}"}


def is_problem(r, status: int, field: str | None = None) -> dict:
    """Assert `r` is problem+json with `status` (and an error on `field`); returns the body."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "application/problem+json", r.mimetype
    body = r.get_json()
    assert {"type", "title", "status", "detail", "code"} <= set(body) and body["status"] == status
    if field is not None:
        assert field in (body.get("errors") or {}), body
    return body
