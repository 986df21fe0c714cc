"""CSV imports: the job (file, mapping, policy, progress, counts) and the per-customer changes undo reads."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import BigId, UTCDateTime, utcnow
from webapp.extensions import db

STATUSES = ("uploaded", "queued", "running", "done", "failed", "undone")
UNDO_DAYS = 30


class ImportJob(db.Model):
    """One uploaded CSV file and what became of it.

    The file itself is kept in `data` (bytes in the database), so a worker on another host reads it
    from the same place the web process wrote it; it is deferred, so lists and progress polls never
    load it."""

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_business_created", "business_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    encoding: Mapped[str] = mapped_column(String(20), default="utf-8")
    delimiter: Mapped[str] = mapped_column(String(1), default=",")
    status: Mapped[str] = mapped_column(String(10), default="uploaded")
    policy: Mapped[str] = mapped_column(String(10), default="skip")
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    headers: Mapped[list] = mapped_column(JSON, default=list)
    total_rows: Mapped[int | None] = mapped_column(default=None)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    repeated: Mapped[int] = mapped_column(default=0)
    # The rejected rows as CSV text (their cells and a reason), for the download; written by `run`.
    rejected_text: Mapped[str | None] = mapped_column(Text, deferred=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # What undo did: {"removed": n, "restored": n, "left_alone": [[customer id, name, why], …]}.
    undo_report: Mapped[dict | None] = mapped_column(JSON)

    @property
    def progress_percent(self) -> int:
        """0-100: how far `run` has got (100 once done)."""
        if self.status in ("done", "undone"):
            return 100
        if not self.total_rows:
            return 0
        return max(0, min(100, self.processed_rows * 100 // self.total_rows))

    @property
    def undo_until(self) -> datetime | None:
        return self.finished_at + timedelta(days=UNDO_DAYS) if self.finished_at else None

    @property
    def can_undo(self) -> bool:
        """Finished, not undone yet, and within the 30 days."""
        return (
            self.status == "done"
            and self.undone_at is None
            and self.finished_at is not None
            and utcnow() < self.undo_until
        )


class ImportChange(db.Model):
    """One customer an import created or updated: what undo needs to take it back.

    For an update, `old_values` holds the fields the import changed as they were before and
    `new_values` what it set ({field: value}; under "tag_ids" the tags it added): undo restores a
    customer only while those fields still hold what the import set, so an edit of another field (or
    a booking, which moves the version on) does not block it, while a change by someone else of a
    field the import set does. `version_after` is the customer's version just after the import:
    a created customer whose version moved on was edited since, and is not removed."""

    __tablename__ = "import_change"
    __table_args__ = (Index("ix_import_change_job", "job_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"))
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    # No foreign key: a created customer may be removed (by undo, or erased) while the record stays.
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(10))  # "created" | "updated"
    old_values: Mapped[dict | None] = mapped_column(JSON)
    new_values: Mapped[dict | None] = mapped_column(JSON)  # what the import set: undo checks it is still so
    version_after: Mapped[int] = mapped_column(default=1)
