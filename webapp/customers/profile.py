"""What the profile shows of the record itself: badges, consents and the history of changes."""

from datetime import date, timedelta

from flask import g
from sqlalchemy import select

from webapp.customers.erasure import REDACTED
from webapp.customers.fields import business_today
from webapp.extensions import db
from webapp.models import AuditEvent, Customer, MarketingPreference

HISTORY_PER_PAGE = 20
ACTION_LABELS = {
    "customer.created": "Created",
    "customer.updated": "Edited",
    "customer.tags_changed": "Tags changed",
    "customer.consents_changed": "Marketing preferences changed",
    "customer.anonymized": "Anonymized",
    "customer.deleted": "Deleted",
    "customer.blacklisted": "Blacklisted",
    "customer.unblacklisted": "Removed from blacklist",
    "customer.merged": "Merged",
}


def next_birthday(dob: date | None, today: date) -> date | None:
    """The next time this birth date comes round (29 February counts as 28 in other years)."""
    if dob is None:
        return None
    for year in (today.year, today.year + 1):
        try:
            day = dob.replace(year=year)
        except ValueError:
            day = date(year, 2, 28)
        if day >= today:
            return day
    return None


def birthday_soon(customer: Customer, today: date, days: int = 7) -> date | None:
    """The birthday's date when it falls within `days` days from today (today included)."""
    day = next_birthday(customer.date_of_birth, today)
    return day if day is not None and day <= today + timedelta(days=days) else None


def history_page(customer: Customer, page: int) -> tuple[list[AuditEvent], bool]:
    """One page of the customer's audit events, newest first, and whether there is another page."""
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.business_id == customer.business_id, AuditEvent.customer_id == customer.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * HISTORY_PER_PAGE)
        .limit(HISTORY_PER_PAGE + 1)
    ).all()
    return rows[:HISTORY_PER_PAGE], len(rows) > HISTORY_PER_PAGE


def consent_rows(customer: Customer) -> list[tuple[MarketingPreference, object]]:
    """Each active preference (and any retired one the customer answered) with the customer's answer."""
    answers = {c.preference_id: c for c in customer.consents}
    prefs = db.session.scalars(
        select(MarketingPreference)
        .where(MarketingPreference.business_id == customer.business_id)
        .order_by(MarketingPreference.name)
    ).all()
    return [(p, answers.get(p.id)) for p in prefs if p.active or p.id in answers]


def profile_details(customer: Customer, args) -> dict:
    """The template context for the record's own parts of the profile."""
    try:
        page = max(1, int(args.get("history_page", 1)))
    except ValueError:
        page = 1
    events, has_next = history_page(customer, page)
    today = business_today(g.business)
    return {
        "events": events,
        "history_page": page,
        "history_has_next": has_next,
        "action_labels": ACTION_LABELS,
        "redacted": REDACTED,  # the history shows only the names of fields whose values were removed
        "consents": consent_rows(customer),
        "birthday": birthday_soon(customer, today),
        "today": today,
    }
