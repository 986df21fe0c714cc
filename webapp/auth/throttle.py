"""Failed sign-ins counted in the database, so the limits hold across workers and hosts.

Every attempt first writes one row per key it counts against (the account, the address; or, for a
browser with a device cookie, only that device) in its own committed transaction, and only then
counts the rows of its window: of N attempts racing on one key, the k-th to count sees at least k
rows, so at most the limit get their password checked, whatever the number of workers. A refused
attempt removes its rows again (the window ends a few minutes after the last *checked* failure) and a
successful sign-in removes its rows (successes do not count).

Device cookies (OWASP "Slow down online guessing attacks with device cookies"): a browser that signed
in to an account gets a signed cookie naming that account; its attempts count against the device's
own allowance, not the account's or the address's, so a flood of wrong passwords from elsewhere does
not lock the owner out of their own browser.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse
from sqlalchemy import delete, func, insert, select

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import SignInFailure

DEVICE_COOKIE = "frontdesk_device"
DEVICE_COOKIE_AGE = timedelta(days=365)
STALE_AFTER = timedelta(days=1)


@dataclass
class Attempt:
    """A sign-in attempt's claim on its keys; `allowed` says whether its password may be checked."""

    token: int
    keys: list[str]
    allowed: bool


def _limit(setting: str) -> tuple[int, timedelta]:
    item = parse(current_app.config[setting])
    return item.amount, timedelta(seconds=item.get_expiry())


def keys_for(email: str, address: str, device: str | None) -> dict[str, str]:
    """The keys an attempt counts against, each with the setting that limits it: a known device
    only its own; any other browser the account and the address."""
    email = email.strip().lower().replace("\x00", "")[:240]  # NUL: PostgreSQL text cannot hold it
    if device:
        return {f"device:{email}:{device}": "LOGIN_RATE_PER_ACCOUNT"}
    return {
        f"account:{email}": "LOGIN_RATE_PER_ACCOUNT",
        f"address:{address[:200]}": "LOGIN_RATE_PER_ADDRESS",
    }


def begin(email: str, address: str, device: str | None) -> Attempt:
    """Claim a try on the attempt's keys (committed at once, outside the request's session)."""
    limits = keys_for(email, address, device)
    token = secrets.randbits(62)
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(insert(SignInFailure), [{"key": k, "attempt": token, "created_at": now} for k in limits])
    allowed = True
    with db.engine.begin() as conn:
        # Keys nobody tries again: the longest window is minutes, a day is plenty (one indexed delete).
        conn.execute(delete(SignInFailure).where(SignInFailure.created_at < now - STALE_AFTER))
        for key, setting in limits.items():
            amount, window = _limit(setting)
            conn.execute(
                delete(SignInFailure).where(SignInFailure.key == key, SignInFailure.created_at < now - window)
            )
            count = conn.scalar(
                select(func.count())
                .select_from(SignInFailure)
                .where(SignInFailure.key == key, SignInFailure.created_at >= now - window)
            )
            allowed = allowed and count <= amount
    attempt = Attempt(token, list(limits), allowed)
    if not allowed:
        forget(attempt)
    return attempt


def forget(attempt: Attempt) -> None:
    """Remove the attempt's rows: it succeeded, or it was refused before its password was checked."""
    with db.engine.begin() as conn:
        conn.execute(delete(SignInFailure).where(SignInFailure.attempt == attempt.token))


def purge_older_than(age: timedelta) -> int:
    """Delete rows older than `age` now (each attempt also deletes those older than STALE_AFTER)."""
    with db.engine.begin() as conn:
        return conn.execute(delete(SignInFailure).where(SignInFailure.created_at < utcnow() - age)).rowcount


# --- device cookies ---------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="frontdesk-device-cookie")


def new_device_cookie(user_id: int) -> str:
    """A signed cookie value binding this browser (a random nonce) to the account `user_id`."""
    return _serializer().dumps({"u": user_id, "n": secrets.token_urlsafe(16)})


def device_of(cookie: str | None, user_id: int | None) -> str | None:
    """The device nonce when `cookie` is a valid, unexpired device cookie for account `user_id`."""
    if not cookie or user_id is None:
        return None
    try:
        data = _serializer().loads(cookie, max_age=int(DEVICE_COOKIE_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or not isinstance(data.get("n"), str):
        return None
    return data["n"][:40]
