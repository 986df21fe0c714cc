"""API keys: create one (the secret shown once, only its digest kept), list and revoke them."""

from flask import current_app
from sqlalchemy import select

from webapp.audit import record
from webapp.database import utcnow
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import ApiKey, Business, StaffUser
from webapp.models.api import ACCESS_LEVELS, KEY_PREFIX, key_digest, new_key_parts

ACCESS_LABELS = {
    "read": "Read only",
    "desk": "Desk (a receptionist's rights)",
    "manager": "Manager (a manager's rights)",
}


def create_key(business: Business, name: str, access: str, actor: StaffUser | None) -> tuple[ApiKey, str]:
    """A new key and its full text `fd_<prefix>_<secret>` (never stored: show it once). Caller commits."""
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise Invalid("name", "Give the key a name of at most 80 characters (what uses it).")
    if access not in ACCESS_LEVELS:
        raise Invalid("access", f"Choose an access level: {', '.join(ACCESS_LEVELS)}.")
    prefix, secret = new_key_parts()
    key = ApiKey(
        business_id=business.id,
        name=name,
        access=access,
        prefix=prefix,
        digest=key_digest(secret, current_app.secret_key),
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(key)
    db.session.flush()
    label = None if actor is not None else "command line"
    record(
        actor,
        "api_key.created",
        business_id=business.id,
        actor_label=label,
        key=name,
        access=access,
        prefix=prefix,
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def revoke_key(key: ApiKey, actor: StaffUser | None) -> bool:
    """Revoke a key (it answers 401 from now on); False when it already was. Caller commits."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    record(actor, "api_key.revoked", business_id=key.business_id, key=key.name, prefix=key.prefix)
    db.session.flush()
    return True


def business_keys(business_id: int) -> list[ApiKey]:
    """The business's keys, live ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(ApiKey.business_id == business_id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )
