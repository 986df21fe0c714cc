"""What a customer list asks for (query, filters, sort, page), read from a query string; never fails."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_QUERY = 100  # characters of a search that are used
DEFAULT_LIMIT = 30
MAX_LIMIT = 100
MAX_PAGE = 100_000
SORT_NAMES = ("name", "created", "updated", "last_visit", "total_bookings", "total_spent", "points")
SORT_ALIASES = {
    "first_name": "name",
    "full_name": "name",
    "created_at": "created",
    "updated_at": "updated",
    "last_visit_at": "last_visit",
    "points_balance": "points",
    "bookings": "total_bookings",
    "spent": "total_spent",
    "created_date": "created",  # the restaurant API's names
    "last_updated": "updated",
    "loyalty_points": "points",
}
MONTHS = ("January February March April May June July August September October November December").split()
YES = {"1", "true", "yes", "on", "only"}
NO = {"0", "false", "no", "off", "exclude"}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Filters:
    """What narrows a customer list, besides the query: tags, location, flags, months and date ranges
    (aware datetimes: [start, end)); `today` decides whether a blacklisting has lapsed."""

    tags: list[int] = field(default_factory=list)
    location: int | None = None
    blacklisted: bool | None = None
    placeholders: bool | None = None
    birth_months: list[int] = field(default_factory=list)
    created: tuple = (None, None)
    updated: tuple = (None, None)
    last_visit: tuple = (None, None)
    upcoming: bool | None = None
    consent_preference: int | None = None
    consent: str = "in"
    consent_changed: tuple = (None, None)
    # The JSON API's filters (the restaurant API's): any of these locations, emails (normalized), one
    # full name (folded, exact), a booking starting in a range, opted in / out of any of some preferences.
    locations: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    full_name: str = ""
    booked: tuple = (None, None)
    opted_in: list[int] = field(default_factory=list)
    opted_in_changed: tuple = (None, None)
    opted_out: list[int] = field(default_factory=list)
    opted_out_changed: tuple = (None, None)
    today: date = field(default_factory=date.today)

    @property
    def filtered(self) -> bool:
        """True when any filter narrows the list."""
        return bool(
            self.tags
            or self.location
            or self.blacklisted is not None
            or self.placeholders is not None
            or self.birth_months
            or any(self.created + self.updated + self.last_visit)
            or self.upcoming is not None
            or self.consent_preference
            or self.locations
            or self.emails
            or self.full_name
            or any(self.booked)
            or self.opted_in
            or self.opted_out
        )


@dataclass
class Criteria(Filters):
    """A whole ask: the query, the filters, the sort and the page; `problems` says, in words, what was
    ignored or corrected while reading it from a query string."""

    q: str = ""
    sort: str = "name"
    sort_given: bool = False
    page: int = 1
    limit: int = DEFAULT_LIMIT
    problems: list[str] = field(default_factory=list)


def clean_query(raw: str | None, problems: list[str] | None = None) -> str:
    """The query as searched: control characters as spaces, trimmed, at most MAX_QUERY characters
    (noting the cut in `problems`)."""
    q = CONTROL.sub(" ", raw or "").strip()
    if len(q) > MAX_QUERY:
        if problems is not None:
            problems.append(f"Only the first {MAX_QUERY} characters of the search were used.")
        q = q[:MAX_QUERY].strip()
    return q


def read_criteria(args, timezone: str = "UTC", *, default_limit: int = DEFAULT_LIMIT) -> Criteria:
    """Read `args` (a MultiDict); anything malformed is dropped with a message, never an error."""
    c = Criteria(limit=default_limit)
    tz = ZoneInfo(timezone)
    c.today = datetime.now(tz).date()
    c.q = clean_query(args.get("q", ""), c.problems)
    c.tags = integers(args.getlist("tag") + args.getlist("tags"), "tag", c)
    locations = integers(args.getlist("location"), "location", c)
    c.location = locations[0] if locations else None
    c.blacklisted = yes_no(args.get("blacklisted"), "blacklisted", c)
    c.placeholders = yes_no(args.get("placeholders"), "placeholders", c)
    c.upcoming = yes_no(args.get("upcoming"), "upcoming", c)
    c.birth_months = months(args.getlist("birth_month") + args.getlist("birth_months"), c)
    c.created = date_range(args, "created", tz, c)
    c.updated = date_range(args, "updated", tz, c)
    c.last_visit = date_range(args, "last_visit", tz, c)
    preferences = integers(args.getlist("consent_preference"), "preference", c)
    c.consent_preference = preferences[0] if preferences else None
    c.consent = "out" if args.get("consent") == "out" else "in"
    c.consent_changed = date_range(args, "consent", tz, c)
    c.sort, c.sort_given = parse_sort(args.get("sort"), c)
    c.limit = bounded(args.get("limit"), default_limit, 1, MAX_LIMIT, "limit", c)
    c.page = bounded(args.get("page"), 1, 1, MAX_PAGE, "page", c)
    return c


def integers(values: list[str], what: str, c: Criteria) -> list[int]:
    """Whole numbers from `values` (comma-separated allowed); others noted."""
    out = []
    for raw in values:
        for part in (raw or "").split(","):
            part = part.strip()
            if not part:
                continue
            if part.isdigit() and len(part) < 10:
                out.append(int(part))
            else:
                c.problems.append(f"Ignored the {what} {part[:20]!r}: not a known {what}.")
    return out[:50]


def yes_no(raw: str | None, what: str, c: Criteria) -> bool | None:
    """ "1"/"yes" -> True, "0"/"no" -> False, empty or "any" -> None."""
    if raw is None or raw.strip().lower() in ("", "any", "all"):
        return None
    value = raw.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    c.problems.append(f"Ignored {what}={raw[:20]!r}: use yes or no.")
    return None


def months(values: list[str], c: Criteria) -> list[int]:
    """Birth months 1–12 (numbers or English names)."""
    out = []
    names = {m.lower(): i for i, m in enumerate(MONTHS, 1)} | {
        m[:3].lower(): i for i, m in enumerate(MONTHS, 1)
    }
    for raw in values:
        for part in (raw or "").split(","):
            part = part.strip().lower()
            if not part:
                continue
            month = int(part) if part.isdigit() and len(part) <= 2 else names.get(part)
            if month is None or not 1 <= month <= 12:
                c.problems.append(f"Ignored the birth month {part[:20]!r}: months run from 1 to 12.")
            elif month not in out:
                out.append(month)
    return sorted(out)


def parse_date(raw: str | None, what: str, c: Criteria) -> date | None:
    """An ISO date (YYYY-MM-DD), or None with a message."""
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        c.problems.append(f"Ignored {what} {raw[:30]!r}: write dates as YYYY-MM-DD.")
        return None


def date_range(args, name: str, tz: ZoneInfo, c: Criteria) -> tuple:
    """`<name>_from` and `<name>_to` (inclusive days in the business's timezone) as aware UTC bounds."""
    label = name.replace("_", " ")
    start = parse_date(args.get(f"{name}_from"), f"the {label} start", c)
    end = parse_date(args.get(f"{name}_to"), f"the {label} end", c)
    if start and end and start > end:
        c.problems.append(f"The {label} range ends before it starts, so the dates were swapped.")
        start, end = end, start
    return (
        datetime.combine(start, time(), tz) if start else None,
        datetime.combine(end + timedelta(days=1), time(), tz) if end and end < date.max else None,
    )


def parse_sort(raw: str | None, c: Criteria) -> tuple[str, bool]:
    """A known sort ("name", "-total_spent", …) and whether one was asked for."""
    if not raw or not raw.strip():
        return "name", False
    raw = raw.strip()
    descending = raw.startswith("-")
    name = raw.lstrip("-+ ")
    name = SORT_ALIASES.get(name, name)
    if name not in SORT_NAMES:
        c.problems.append(f"Cannot sort by {raw[:30]!r}, so the list is sorted by name.")
        return "name", False
    return ("-" if descending else "") + name, True


def bounded(raw: str | None, default: int, low: int, high: int, what: str, c: Criteria) -> int:
    """An integer clamped to [low, high]; a malformed one gives the default (with a message)."""
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip()[:12])
    except ValueError:
        c.problems.append(f"Ignored {what}={raw[:20]!r}: not a number.")
        return default
    if value < low:
        c.problems.append(f"The {what} cannot be below {low}, so {low} was used.")
        return low
    if value > high:
        c.problems.append(f"The {what} cannot be above {high:,}, so {high:,} was used.")
        return high
    return value
