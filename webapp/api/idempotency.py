"""`Idempotency-Key` on POST: the first answer is kept for 24 hours and replayed for the same key and body.

The record is inserted before the work, in the work's own transaction. A second request with the same
key blocks on the unique index (PostgreSQL) or on the write lock (SQLite) until the first commits, then
finds the record and replays it: the work is done once. When the first fails, its record rolls back
with it and the key is free again.
"""

import hashlib
from datetime import timedelta
from functools import wraps

from flask import Response, g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from webapp.api.conventions import actor_id
from webapp.api.registry import BadInput
from webapp.database import utcnow
from webapp.edge import has_control_characters
from webapp.extensions import db
from webapp.models import IdempotencyRecord

KEPT_FOR = timedelta(hours=24)
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def fingerprint() -> str:
    """SHA-256 of what makes two requests the same: method, path, query string and body."""
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def find(key: str) -> IdempotencyRecord | None:
    """This actor's live record for `key`, if any (an expired one is removed)."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.business_id == g.business.id,
            IdempotencyRecord.actor == actor_id(),
            IdempotencyRecord.key == key,
        )
    )
    if record is not None and utcnow() - record.created_at > KEPT_FOR:
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
        return None
    return record


def replay(record: IdempotencyRecord, print_: str) -> Response:
    """The stored answer, or 422 when the key came with another request."""
    if record.fingerprint != print_:
        raise BadInput({"Idempotency-Key": ["This key was already used with another request."]})
    response = Response(record.body, record.status or 200)
    response.headers.update(record.headers or {})
    response.headers["Idempotent-Replayed"] = "true"
    return response


def read_key() -> str | None:
    """The request's Idempotency-Key (1–255 printable characters), or None."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and (not 0 < len(key) <= 255 or has_control_characters(key)):
        raise BadInput({"Idempotency-Key": ["Use 1 to 255 printable characters."]})
    return key


def idempotent(view):
    """Make a POST view replay its first answer for a repeated Idempotency-Key (the caller commits)."""

    @wraps(view)
    def wrapped(**kwargs):
        key = read_key()
        if key is None:
            return view(**kwargs)
        print_ = fingerprint()
        found = find(key)
        if found is not None:
            return replay(found, print_)
        # Records past their 24 hours go as new ones come: a range of the created_at index, usually empty.
        db.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - KEPT_FOR)
        )
        record = IdempotencyRecord(
            business_id=g.business.id, actor=actor_id(), key=key, fingerprint=print_, body="", headers={}
        )
        db.session.add(record)
        try:
            db.session.flush()  # waits here for a concurrent request with the same key to finish
        except IntegrityError:
            db.session.rollback()
            return replay(find(key), print_)
        response = view(**kwargs)
        record.status, record.body = response.status_code, response.get_data(as_text=True)
        record.headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
        return response

    return wrapped
