"""Undo a merge within 30 days: restore the duplicate and move back the rows still on the survivor."""

import uuid
from datetime import timedelta

from sqlalchemy import delete, select

from webapp import signals
from webapp.audit import record
from webapp.database import utcnow
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.merge import rows
from webapp.merge.services import lock_pair
from webapp.merge.snapshots import SNAPSHOT_FIELDS, from_json
from webapp.models import AuditEvent, Customer, CustomerContactHistory, DuplicateCandidate, StaffUser
from webapp.models.customer import LEAN

UNDO_DAYS = 30


def merge_event(business_id: int, event_id: int) -> AuditEvent | None:
    """A `customer.merged` event of this business."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.business_id != business_id or event.action != "customer.merged":
        return None
    return event


def undo_deadline(event: AuditEvent):
    """The last moment the merge can be undone."""
    return event.created_at + timedelta(days=UNDO_DAYS)


def why_not_undoable(event: AuditEvent, source: Customer | None, target: Customer | None) -> str | None:
    """None when the merge can be undone, else the precise reason it cannot."""
    if source is None or target is None:
        return "One of the two customers has since been deleted, so there is nothing to restore."
    if source.merged_into_id is None:
        return f"This merge was already undone: {source.display_name} is a customer of their own again."
    for who, c in (("The survivor", target), ("The duplicate", source)):
        if c.anonymized_at is not None:  # their snapshots were redacted: nothing left to restore
            return (
                f"{who} was anonymized on {c.anonymized_at:%-d %b %Y}: the details this undo would "
                "restore were wiped for good, so the merge cannot be undone."
            )
    if source.merged_into_id != target.id:
        return f"{event.changes.get('source_name')} was later merged into another customer; undo that first."
    if target.merged_into_id is not None:
        return f"{target.display_name} has since been merged into another customer; undo that merge first."
    if utcnow() > undo_deadline(event):
        return (
            f"Merges can be undone for {UNDO_DAYS} days; this one was on {event.created_at:%-d %b %Y} "
            "(transfer bookings back instead)."
        )
    return None


def _contact_conflict(source: Customer, target: Customer, data: dict) -> str | None:
    """A message when the duplicate's email or phone now belongs to someone other than the survivor."""
    before, fields = data["source_before"], data.get("fields", {})
    for attr, label in (("email_normalized", "email"), ("phone", "phone")):
        value = before.get(attr)
        if not value:
            continue
        holder = db.session.scalar(
            select(Customer).where(
                Customer.business_id == source.business_id,
                getattr(Customer, attr) == value,
                Customer.id != source.id,
            )
        )
        if holder is None:
            continue
        field = "email" if label == "email" else "phone"
        change = fields.get(field)
        gives_back = (
            holder.id == target.id
            and change is not None
            and (getattr(target, field) or None) == (change["new"] or None)
            and (change["old"] or "").lower() != value.lower()
        )
        if not gives_back:
            shown = before.get("email") if label == "email" else value
            return (
                f"{data['source_name']}'s {label} {shown} now belongs to {holder.display_name}. "
                f"Change or remove it on that record first, then undo again."
            )
    return None


def _restore_target(target: Customer, data: dict) -> tuple[list[str], list[str]]:
    """Put back the survivor's former values where they still hold what the merge gave them."""
    restored, kept = [], []
    for name, change in data.get("fields", {}).items():
        if getattr(target, name) == from_json(name, change["new"]):
            setattr(target, name, from_json(name, change["old"]))
            if name == "email":
                target.email_normalized = data["target_before"]["email_normalized"]
            restored.append(name)
        else:
            kept.append(name)
    target.updated_at = utcnow()
    db.session.flush()
    return restored, kept


def _restore_source(source: Customer, data: dict) -> None:
    """The duplicate gets back every value it had, and stops pointing at the survivor."""
    for name in SNAPSHOT_FIELDS:
        setattr(source, name, from_json(name, data["source_before"][name]))
    source.merged_into_id = None
    source.merged_at = None
    db.session.flush()


def _restore_candidates(business_id: int, saved: list[dict]) -> None:
    """Suggest the pair again, as it was before the merge."""
    for c in saved:
        a, b = uuid.UUID(c["a"]), uuid.UUID(c["b"])
        if db.session.get(DuplicateCandidate, (business_id, a, b)) is None:
            db.session.add(
                DuplicateCandidate(
                    business_id=business_id,
                    customer_a_id=a,
                    customer_b_id=b,
                    score=c["score"],
                    reasons=c["reasons"],
                )
            )


def undo_merge(event: AuditEvent, actor: StaffUser) -> dict:
    """Reverse a merge; returns rows moved back, rows that stay and fields kept. Caller commits."""
    data = event.changes
    source = db.session.get(Customer, uuid.UUID(data["source_id"]), options=LEAN)
    target = db.session.get(Customer, event.customer_id, options=LEAN)
    if source is not None and target is not None:
        lock_pair(source, target)
    problem = why_not_undoable(event, source, target) or _contact_conflict(source, target, data)
    if problem:
        raise Invalid(None, problem)
    restored, kept = _restore_target(target, data)
    _restore_source(source, data)
    back, stayed = rows.move_back(data.get("moved", {}), source.id, target.id)
    rows.unmerge_links(source, target, data)
    rows.unmerge_consents(source, target, data.get("consents", {}))
    if data.get("contact_history_ids"):
        db.session.execute(
            delete(CustomerContactHistory).where(CustomerContactHistory.id.in_(data["contact_history_ids"]))
        )
    _restore_candidates(event.business_id, data.get("candidates", []))
    # bookings recounts both; money follows the rows moved back (and refuses spent points)
    signals.merge_undone.send(target, source=source, actor=actor, moved=data.get("moved", {}))
    result = {
        "merge_event_id": event.id,
        "moved_back": back,
        "stayed": stayed,
        "restored": restored,
        "kept": kept,
    }
    record(
        actor,
        "customer.merge_undone",
        target,
        source_id=str(source.id),
        source_name=source.display_name,
        **result,
    )
    record(
        actor, "customer.unmerged", source, from_id=str(target.id), from_name=target.display_name, **result
    )
    db.session.flush()
    return result
