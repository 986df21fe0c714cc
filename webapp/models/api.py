"""API keys (per business, only a keyed digest stored) and the idempotency records of API writes."""

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.database import BigId, UTCDateTime, utcnow
from webapp.extensions import db
from webapp.models.business import Business

ACCESS_LEVELS = ("read", "desk", "manager")
KEY_PREFIX = "fd"


def key_digest(secret: str, server_key: str) -> str:
    """HMAC-SHA256 of a key's secret under the app's SECRET_KEY. The secret is 256 random bits, so a fast
    keyed hash is enough (nothing to brute-force), and a stolen table without SECRET_KEY is useless."""
    return hmac.new(server_key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def new_key_parts() -> tuple[str, str]:
    """A fresh (prefix, secret): 8 visible hex characters and 43 characters of urlsafe randomness."""
    return secrets.token_hex(4), secrets.token_urlsafe(32)


def split_key(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of a key written `fd_<prefix>_<secret>`, or None when it is not one."""
    parts = raw.split("_", 2)
    if len(raw) > 200 or len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1], parts[2]


class ApiKey(db.Model):
    """A business's key for the JSON API: a name, an access level, when it was last used, revoked or not."""

    __tablename__ = "api_key"
    __table_args__ = (
        Index("ix_api_key_prefix", "prefix", unique=True),
        Index("ix_api_key_business_created", "business_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    access: Mapped[str] = mapped_column(String(10), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    business: Mapped[Business] = relationship(lazy="joined", innerjoin=True)

    @property
    def label(self) -> str:
        """How the key reads as an actor in audit events and histories."""
        return f"API key {self.name}"

    def matches(self, secret: str, server_key: str) -> bool:
        """True when `secret` is this key's, compared in constant time."""
        return hmac.compare_digest(self.digest, key_digest(secret, server_key))


class IdempotencyRecord(db.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed for 24 hours. The row is
    inserted before the work, in the same transaction: a second request with the key waits on the
    unique index until the first commits, then replays its answer."""

    __tablename__ = "api_idempotency"
    __table_args__ = (
        Index("ix_api_idempotency_key", "business_id", "actor", "key", unique=True),
        Index("ix_api_idempotency_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    actor: Mapped[str] = mapped_column(String(40))  # "key:<id>" or "user:<id>"
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[int | None]
    body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
