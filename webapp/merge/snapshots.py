"""The fields a merge may change and their JSON form, saved in the merge's audit event so undo can restore."""

from datetime import date, datetime

from webapp.models import Customer

# Fields the manager chooses between (the target's value unless empty).
CHOICE_FIELDS = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("date_of_birth", "Date of birth"),
    ("company", "Company"),
    ("address", "Address"),
    ("source", "Source"),
    ("custom_field_value", "Custom field"),
)
RESTRICTION_FIELDS = (
    "blacklisted_at",
    "blacklist_reason",
    "blacklist_level",
    "blacklist_expires_on",
    "blacklisted_by_id",
    "blacklist_reviewed_at",
    "blacklist_reviewed_by_id",
)
# Everything a merge may change on either record, saved in the audit event for undo.
SNAPSHOT_FIELDS = (
    *(name for name, _ in CHOICE_FIELDS),
    "email_normalized",
    "notes",
    "is_dummy",
    "dummy_label",
    *RESTRICTION_FIELDS,
)
DATETIME_FIELDS = ("blacklisted_at", "blacklist_reviewed_at")


def to_json(value):
    """A customer field's value as the audit event stores it (dates and times as ISO strings)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def from_json(name: str, value):
    """The customer field `name`'s value back from its stored JSON form (the inverse of `to_json`)."""
    if value is None:
        return None
    if name in DATETIME_FIELDS:
        return datetime.fromisoformat(value)
    if Customer.__table__.c[name].type.python_type is date:
        return date.fromisoformat(value)
    return value


def snapshot(customer: Customer) -> dict:
    """The fields a merge may change, JSON-ready."""
    return {name: to_json(getattr(customer, name)) for name in SNAPSHOT_FIELDS}
