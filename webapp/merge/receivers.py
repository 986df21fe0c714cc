"""What duplicate management keeps in step with other features' changes."""

import uuid

from sqlalchemy import delete, select

from webapp import signals
from webapp.customers.erasure import PERSONAL_FIELDS, REDACTED, write_changes
from webapp.extensions import db
from webapp.merge import history
from webapp.models import AuditEvent, Customer, CustomerMatchKey, DuplicateCandidate

# How merge events name a customer other than the event's own: the name key and the id key beside it.
NAME_KEYS = {"source_name": "source_id", "into_name": "into_id", "from_name": "from_id", "to_name": "to_id"}
LINK_KEYS = tuple(NAME_KEYS.values())
# A merge snapshot's or field change's values that are the person's (level, dates and who set a
# restriction stay: they say what was done, not who to).
PERSONAL_SNAPSHOT_FIELDS = frozenset(PERSONAL_FIELDS) | {"blacklist_reason"}
ANONYMIZED_NAME = "Anonymized customer"  # what the record itself now shows as its name


@signals.customer_anonymized.connect
def forget_anonymized(customer: Customer, **_) -> None:
    """An anonymized customer leaves no match keys or duplicate pairs behind (nothing to match on)."""
    db.session.execute(delete(CustomerMatchKey).where(CustomerMatchKey.customer_id == customer.id))
    db.session.execute(
        delete(DuplicateCandidate).where(
            DuplicateCandidate.business_id == customer.business_id,
            (DuplicateCandidate.customer_a_id == customer.id)
            | (DuplicateCandidate.customer_b_id == customer.id),
        )
    )


@signals.customer_anonymized.connect
def redact_merge_history(customer: Customer, **_) -> None:
    """The merge events that hold the person (the snapshots undo would restore, names, field values),
    theirs and those of the other customers in their merges and transfers, keep ids and counts only."""
    b, me = customer.business_id, customer.id
    own = merge_events(b, [me])
    others = {uuid.UUID(e.changes[k]) for e in own for k in LINK_KEYS if (e.changes or {}).get(k)} - {me}
    changed = []
    for e in own + (merge_events(b, sorted(others)) if others else []):
        redacted = redact_merge_event(e.action, e.changes, e.customer_id, me)
        if redacted != e.changes:
            changed.append({"event_id": e.id, "redacted": redacted})
    write_changes(changed)


def merge_events(business_id: int, customer_ids: list) -> list:
    """(id, action, customer_id, changes) of the merge events on these customers (their index serves)."""
    return db.session.execute(
        select(AuditEvent.id, AuditEvent.action, AuditEvent.customer_id, AuditEvent.changes).where(
            AuditEvent.business_id == business_id,
            AuditEvent.customer_id.in_(customer_ids),
            AuditEvent.action.in_(history.MERGE_ACTIONS),
        )
    ).all()


def redact_merge_event(action: str, changes: dict | None, owner_id, anonymized_id) -> dict | None:
    """A merge event's changes with what it holds of `anonymized_id` redacted (names become the
    record's anonymized name, personal values REDACTED); what it holds of anyone else stays."""
    if not changes:
        return changes
    sid = str(anonymized_id)
    about_source = changes.get("source_id") == sid
    about_owner = owner_id == anonymized_id
    out = dict(changes)
    for name_key, id_key in NAME_KEYS.items():
        if name_key in out and changes.get(id_key) == sid:
            out[name_key] = ANONYMIZED_NAME
    if about_owner and "target_name" in out:
        out["target_name"] = ANONYMIZED_NAME
    if about_source and isinstance(out.get("source_before"), dict):
        out["source_before"] = redact_snapshot(out["source_before"])
    if about_owner and isinstance(out.get("target_before"), dict):
        out["target_before"] = redact_snapshot(out["target_before"])
    if action == "customer.merged" and (about_source or about_owner):
        out.update(redact_merged_links(out))
    return out


def redact_snapshot(snapshot: dict) -> dict:
    """A snapshot of a customer's fields with the person's values REDACTED."""
    return {
        k: (REDACTED if k in PERSONAL_SNAPSHOT_FIELDS and v not in (None, "") else v)
        for k, v in snapshot.items()
    }


def redact_merged_links(changes: dict) -> dict:
    """A merge's field changes, tags and consents as a history can still show them (names, counts),
    without their values."""
    out = {}
    if isinstance(changes.get("fields"), dict):
        out["fields"] = {
            k: ({"old": REDACTED, "new": REDACTED} if k in PERSONAL_SNAPSHOT_FIELDS else v)
            for k, v in changes["fields"].items()
        }
    if isinstance(changes.get("tags"), dict):  # tag ids say which labels the person had: counts stay
        out["tags"] = {k: [REDACTED] * len(v or []) for k, v in changes["tags"].items()}
    if isinstance(changes.get("consents"), dict):
        out["consents"] = {k: [REDACTED] * len(v or []) for k, v in changes["consents"].items()}
    return out


@signals.profile_shown.connect
def show_merge_history(customer: Customer, events=(), **_) -> dict:
    """The profile's merge events: their labels and whether each can be undone now."""
    return history.profile_context(list(events))
