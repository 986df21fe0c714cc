"""Local wall-clock times in the business's timezone, turned into UTC without guessing across DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from webapp.errors import Invalid


def zone(name: str | None) -> ZoneInfo:
    """The business's timezone (UTC when unset)."""
    return ZoneInfo(name or "UTC")


def to_utc(day: date, at: time, tz_name: str, field: str) -> datetime:
    """`day` at `at` on the business's clock, in UTC; a time the clock skips or repeats is refused."""
    tz = zone(tz_name)
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            raise Invalid(
                field,
                f"{at:%H:%M} does not exist on {day:%-d %b %Y} in {tz_name}: the clocks go forward "
                "then. Choose a time outside the skipped hour.",
            )
        raise Invalid(
            field,
            f"{at:%H:%M} happens twice on {day:%-d %b %Y} in {tz_name}: the clocks go back then. "
            "Choose a time outside the repeated hour.",
        )
    return first.astimezone(UTC)


def day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC instants at which `day` starts and ends on the business's clock."""
    tz = zone(tz_name)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_today(tz_name: str) -> date:
    """Today's date on the business's clock."""
    return datetime.now(zone(tz_name)).date()


def month_starts(last_month: date, months: int, tz_name: str) -> list[datetime]:
    """UTC instants where each of the `months` months ending with `last_month` begins, and where it ends."""
    tz = zone(tz_name)
    index = last_month.year * 12 + last_month.month - 1 - (months - 1)
    return [
        datetime(i // 12, i % 12 + 1, 1, tzinfo=tz).astimezone(UTC) for i in range(index, index + months + 1)
    ]
