"""Taking data out, audited: the customer list as CSV, one person's data, and the retention rule.

The views and the commands call these; the CSV is a generator of byte chunks that records its audit
event (with the filters and the rows written) when it ends, finished or cut off.
"""

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime

from webapp.audit import record
from webapp.customers.erasure import anonymize
from webapp.errors import Invalid
from webapp.exports import book, retention
from webapp.exports.person import person_export
from webapp.extensions import db
from webapp.models import Business, Customer, StaffUser
from webapp.search import Criteria

# Criteria fields that say how a list is shown, not which customers it holds.
NOT_FILTERS = {"page", "limit", "problems", "sort_given", "today"}
RETENTION_BATCH = 200  # customers anonymized per transaction by `flask apply-retention --apply`


def described(c: Criteria) -> dict:
    """The criteria that differ from an unfiltered list, as JSON values (for the audit trail)."""
    blank = Criteria()
    out = {}
    for f in fields(Criteria):
        value = getattr(c, f.name)
        if f.name in NOT_FILTERS or value == getattr(blank, f.name):
            continue
        if isinstance(value, tuple):
            value = [v.isoformat() if isinstance(v, datetime | date) else v for v in value]
        out[f.name] = value
    return out


def export_customers_csv(
    business: Business,
    c: Criteria,
    actor: StaffUser | None,
    *,
    actor_label: str | None = None,
    size: int = book.CHUNK,
    counter: list | None = None,
) -> Iterator[bytes]:
    """Every customer `c` selects as CSV byte chunks (BOM and header first). When the generator ends —
    or is closed part-way, a download cancelled — an audit event records the filters and how many rows
    went out; the caller commits after it. `counter[0]`, when given, counts the rows as they go."""
    counter = counter if counter is not None else [0]
    complete = False
    try:
        yield from book.csv_bytes(business, c, counter, size)
        complete = True
    finally:
        record(
            actor,
            "customers.exported",
            business_id=business.id,
            actor_label=actor_label,
            format="csv",
            filters=described(c),
            rows=counter[0],
            complete=complete,
        )
        db.session.flush()


def export_person(customer: Customer, actor: StaffUser | None) -> dict:
    """Everything held about `customer` (see person.py), audited. Caller commits."""
    data = person_export(customer)
    record(actor, "customer.data_exported", customer, format="json", sections=list(data)[3:])
    db.session.flush()
    return data


# --- retention ------------------------------------------------------------------------------------


@dataclass
class RetentionPreview:
    """What the rule would do now: the cut-off, how many customers, and the first of them."""

    years: int
    before: datetime
    count: int
    first: list


def check_years(years) -> int:
    """`years` as a whole number of the allowed range, or Invalid on the field."""
    if not isinstance(years, int) or not retention.MIN_YEARS <= years <= retention.MAX_YEARS:
        raise Invalid(
            "years", f"Choose a number of years from {retention.MIN_YEARS} to {retention.MAX_YEARS}."
        )
    return years


def set_retention(business: Business, years: int | None, actor: StaffUser | None) -> None:
    """Turn the rule on for `years` (1–50) or off (None). Caller commits."""
    if years is not None:
        check_years(years)
    if business.retention_years != years:
        record(
            actor,
            "business.retention_changed",
            business_id=business.id,
            years=[business.retention_years, years],
        )
        business.retention_years = years
    db.session.flush()


def preview_retention(business: Business, years: int, *, now: datetime | None = None) -> RetentionPreview:
    """Who the rule with `years` would anonymize now (a count and the first rows); writes nothing."""
    check_years(years)
    before = retention.cutoff(years, now)
    return RetentionPreview(
        years, before, retention.count_inactive(business.id, before), retention.preview(business.id, before)
    )


def anonymize_inactive_batch(
    business: Business, before: datetime, actor: StaffUser | None, size: int | None = None
) -> int:
    """Anonymize up to `size` customers inactive since `before`, through the one anonymize rule (each
    audited by it). Returns how many; the caller commits, then asks for the next batch until 0."""
    done = 0
    for customer_id in retention.inactive_ids(business.id, before, size or RETENTION_BATCH):
        customer = db.session.get(Customer, customer_id)
        if customer is not None and customer.anonymized_at is None:
            anonymize(customer, actor)
            done += 1
    db.session.flush()
    return done


def record_retention_run(
    business: Business, years: int, before: datetime, anonymized: int, actor: StaffUser | None, label: str
) -> None:
    """One audit event for a whole run of the rule. Caller commits."""
    record(
        actor,
        "customers.retention_applied",
        business_id=business.id,
        actor_label=label,
        years=years,
        before=before.isoformat(),
        anonymized=anonymized,
    )
    db.session.flush()
