"""Receipt numbers: REC-YYYYMMDD-NNN, numbered per business and local day, never the same twice."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import Business, ReceiptSequence

PREFIX = "REC"


def local_day(business: Business, now: datetime | None = None) -> date:
    """Today (or `now`) in the business's timezone: a receipt's date is the till's, not UTC's."""
    zone = ZoneInfo(business.timezone or "UTC")
    return (now.astimezone(zone) if now else datetime.now(zone)).date()


def next_receipt_number(business: Business, now: datetime | None = None) -> str:
    """The next receipt number of the business's day, "REC-20261203-007" (more than 999 in a day
    keeps counting: -1000). One INSERT … ON CONFLICT DO UPDATE … RETURNING takes it: on PostgreSQL the
    day's row stays locked until the sale commits, so two tills wait for each other instead of
    reading the same `last`; on SQLite one writer at a time does the same."""
    day = local_day(business, now)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ReceiptSequence)
        .values(business_id=business.id, day=day, last=1)
        .on_conflict_do_update(
            index_elements=[ReceiptSequence.business_id, ReceiptSequence.day],
            set_={"last": ReceiptSequence.last + 1},
        )
        .returning(ReceiptSequence.last)
    )
    last = db.session.execute(statement).scalar_one()
    return f"{PREFIX}-{day:%Y%m%d}-{last:03d}"
