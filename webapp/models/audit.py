"""Audit events: who did what to which customer, with the fields that changed."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import BigId, UTCDateTime, utcnow
from webapp.extensions import db


class AuditEvent(db.Model):
    """An append-only record of a sensitive change."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_business_customer", "business_id", "customer_id", "created_at"),
        Index("ix_audit_event_business_created", "business_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    actor_label: Mapped[str] = mapped_column(String(255), default="")  # kept if the actor goes
    action: Mapped[str] = mapped_column(String(60))
    # No foreign key: the event outlives a deleted customer.
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
