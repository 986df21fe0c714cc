"""Form submissions already handled, so a double-clicked save creates one record, not two."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import UTCDateTime, utcnow
from webapp.extensions import db


class FormSubmission(db.Model):
    """A create form's one-time token and the customer it created."""

    __tablename__ = "form_submission"
    __table_args__ = (Index("ix_form_submission_business_created", "business_id", "created_at"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # no FK: a deleted customer may go
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
