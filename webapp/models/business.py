"""The tenant (business) and its venues (locations)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.database import UTCDateTime, utcnow
from webapp.extensions import db


class Business(db.Model):
    """A tenant: every other row belongs to exactly one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    phone_region: Mapped[str] = mapped_column(String(2), default="GB")
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    points_per_unit: Mapped[int] = mapped_column(default=1)  # points earned per major currency unit
    point_value_minor: Mapped[int] = mapped_column(default=10)  # value of one point in minor units
    # Anonymize customers with no visit and no booking for this many years; None = off (the default).
    retention_years: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    locations: Mapped[list["Location"]] = relationship(
        back_populates="business", order_by="Location.name", lazy="raise_on_sql"
    )


class Location(db.Model):
    """A venue of a business."""

    __table_args__ = (Index("ix_location_business_name", "business_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    business: Mapped[Business] = relationship(back_populates="locations", lazy="raise_on_sql")
