"""Signing in (throttled, audited), signing out, one's own password and an owner's reset of a colleague's."""

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.audit import record
from webapp.auth import throttle
from webapp.auth.passwords import (
    dummy_verify,
    hash_password,
    needs_rehash,
    normalized,
    password_problem,
    verify_password,
)
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import StaffUser, utcnow

log = logging.getLogger("frontdesk.auth")

# No 0/o, 1/l/i: the owner reads the temporary password out or writes it down.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass
class SignInResult:
    """How a sign-in went: `user` when it succeeded, `throttled` when its password was not checked."""

    user: StaffUser | None = None
    throttled: bool = False


def sign_in(email: str, password: str, *, address: str, device_cookie: str | None) -> SignInResult:
    """Check `password` for `email`, within the failed sign-in limits. Commits.

    A missing account costs the same argon2 work as a present one (one verification against a
    precomputed hash), and both count against the same limits."""
    email = email.strip().lower()
    # No stored email holds a NUL (and PostgreSQL cannot compare one): such an account does not exist.
    user = (
        None
        if "\x00" in email
        else db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    )
    device = throttle.device_of(device_cookie, user.id if user is not None else None)
    attempt = throttle.begin(email, address, device)
    if not attempt.allowed:
        log.warning("sign-in refused (too many failures) for %r from %s", email, address)
        return SignInResult(throttled=True)
    if user is None:
        dummy_verify(password)
        right = False
    else:
        right = verify_password(user.password_hash, password) and user.active
    if not right:
        log.warning("sign-in failed for %r from %s", email, address)
        if user is not None:  # unknown accounts are only logged: no business to audit them on
            record(
                None,
                "staff.sign_in_failed",
                business_id=user.business_id,
                actor_label=email,
                email=email,
                address=address,
            )
            db.session.commit()
        return SignInResult()
    throttle.forget(attempt)  # successful sign-ins do not count
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    record(user, "staff.signed_in", business_id=user.business_id, address=address)
    db.session.commit()
    log.info("sign-in of %r (user %s) from %s", email, user.id, address)
    return SignInResult(user=user)


def signed_out(user: StaffUser) -> None:
    """End every session of `user` and audit it. Caller commits."""
    user.end_sessions()
    record(user, "staff.signed_out", business_id=user.business_id)


def change_own_password(user: StaffUser, current: str, new: str) -> None:
    """Set `user`'s password to `new` after checking `current`; ends their sessions. Caller commits."""
    if not verify_password(user.password_hash, current):
        raise Invalid("current", "That is not your current password.")
    problem = password_problem(new, user.email, current=current)
    if problem:
        raise Invalid("new", problem)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.end_sessions()
    record(user, "staff.password_changed", business_id=user.business_id)


def temporary_password() -> str:
    """A random password to hand over once: four groups of four, about 79 bits."""
    groups = ("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def reset_colleague_password(user: StaffUser, actor: StaffUser) -> str:
    """Give `user` a temporary password they must change at their next sign-in; their sessions end.
    Returns the password (shown once to the owner). Caller commits."""
    if user.id == actor.id:
        raise Invalid("user", "Change your own password from your account instead.")
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.end_sessions()
    record(actor, "staff.password_reset", business_id=user.business_id, email=user.email)
    return normalized(password)
