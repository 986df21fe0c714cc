"""Duplicate management: precomputed match keys and candidate pairs, dismissed pairs, former contacts."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import BigId, UTCDateTime, utcnow
from webapp.extensions import db


class CustomerMatchKey(db.Model):
    """A live customer's normalized keys for finding duplicates (rebuilt by `flask refresh-duplicates`)."""

    __tablename__ = "customer_match_key"
    __table_args__ = (
        Index("ix_customer_match_key_business_phone", "business_id", "phone_key"),
        Index("ix_customer_match_key_business_email", "business_id", "email_key"),
        Index("ix_customer_match_key_business_last_dob", "business_id", "last_dob_key"),
        Index("ix_customer_match_key_business_first_dob", "business_id", "first_dob_key"),
        Index("ix_customer_match_key_business_name", "business_id", "name_key"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    phone_key: Mapped[str | None] = mapped_column(String(20))  # last 9 digits
    email_key: Mapped[str | None] = mapped_column(String(255))  # no +tag, no dots at gmail
    last_dob_key: Mapped[str | None] = mapped_column(String(120))  # folded last name + birth date
    first_dob_key: Mapped[str | None] = mapped_column(String(120))  # canonical first name + birth date
    name_key: Mapped[str | None] = mapped_column(
        String(255)
    )  # canonical full name, only without a birth date


class DuplicateCandidate(db.Model):
    """A pair of customers that look like the same person; customer_a_id < customer_b_id."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (
        Index(
            "ix_duplicate_candidate_business_score", "business_id", "score", "customer_a_id", "customer_b_id"
        ),
        Index("ix_duplicate_candidate_business_b", "business_id", "customer_b_id"),
    )

    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"), primary_key=True)
    customer_a_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    customer_b_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int]  # 0-100, higher is more certain
    reasons: Mapped[str] = mapped_column(String(200))  # comma-separated: phone,email,name_dob,name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DismissedPair(db.Model):
    """A pair a manager said is not a duplicate; never suggested again."""

    __tablename__ = "dismissed_pair"

    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"), primary_key=True)
    customer_a_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    customer_b_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DuplicateScan(db.Model):
    """When a business's candidates were last refreshed, and what the refresh found."""

    __tablename__ = "duplicate_scan"

    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"), primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    customers: Mapped[int] = mapped_column(default=0)
    candidates: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)


class CustomerContactHistory(db.Model):
    """A contact detail a customer used to have (edited away or merged in), for ban-evasion checks."""

    __tablename__ = "customer_contact_history"
    __table_args__ = (
        Index("ix_customer_contact_history_business_email", "business_id", "email_normalized"),
        Index("ix_customer_contact_history_business_phone", "business_id", "phone"),
        Index("ix_customer_contact_history_business_customer", "business_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customer.id", ondelete="CASCADE"))
    email_normalized: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    why: Mapped[str] = mapped_column(String(20), default="edited")  # edited | merged
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
