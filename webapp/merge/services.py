"""Merge two customers into one (everything moves, the source becomes a pointer), transfer bookings, undo."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm.exc import StaleDataError

from webapp import signals
from webapp.audit import record
from webapp.database import utcnow
from webapp.errors import Conflict, Invalid
from webapp.extensions import db
from webapp.merge import candidates, queries, rows
from webapp.merge.snapshots import CHOICE_FIELDS, RESTRICTION_FIELDS, snapshot, to_json
from webapp.models import AuditEvent, Customer, CustomerContactHistory, Location, StaffUser, Tag
from webapp.models.customer import customer_location, customer_tag
from webapp.models.locks import lock_customers

# How the preview and the history name the fields a merge may change.
FIELD_LABELS = {
    **dict(CHOICE_FIELDS),
    "notes": "Notes",
    "is_dummy": "Placeholder",
    "blacklist_reason": "Restriction reason",
    "blacklist_level": "Restriction",
    "blacklist_expires_on": "Restriction lapses",
}
NOTES_CHOICES = ("join", "target", "source")
NOTES_MAX = 1000


@dataclass
class Plan:
    """What a merge will do: the survivor's new values and the rows that move."""

    values: dict
    changed: dict  # field -> (old, new) on the target
    moves: dict  # table name -> count (money tables summed up in `money` instead)
    tags_added: list = field(default_factory=list)
    locations_added: list = field(default_factory=list)
    consents_from_source: int = 0
    restriction_carried: bool = False
    notes: str = ""
    money: dict = field(
        default_factory=dict
    )  # sales, sales_total, points, cards, ledger_entries, ledger_balance


def check_pair(source: Customer, target: Customer, business_id: int) -> None:
    """Refuse merges that make no sense, with a message that says why (nothing written yet)."""
    if source.business_id != business_id or target.business_id != business_id:
        raise Invalid(None, "These customers belong to different businesses and cannot be merged.")
    if source.id == target.id:
        raise Invalid(None, "A customer cannot be merged with itself. Choose two different customers.")
    for who, c in (("The duplicate", source), ("The survivor", target)):
        if c.merged_into_id is not None:
            raise Invalid(
                None,
                f"{who} ({c.display_name}) was already merged into another customer"
                f"{f' on {c.merged_at:%-d %b %Y}' if c.merged_at else ''}. Merge with that customer instead.",
            )
        if c.anonymized_at is not None:
            raise Invalid(None, f"{who} was anonymized; an anonymized customer cannot be merged.")


def default_choices(source: Customer, target: Customer) -> dict:
    """The target's value unless it is empty and the source's is filled; notes are joined."""
    choices = {
        name: ("source" if not getattr(target, name) and getattr(source, name) else "target")
        for name, _ in CHOICE_FIELDS
    }
    choices["notes"] = "join"
    return choices


def joined_notes(source: Customer, target: Customer, how: str) -> str:
    """The survivor's notes for a notes choice."""
    if how == "source":
        return source.notes or ""
    if how == "target":
        return target.notes or ""
    parts = [n.strip() for n in (target.notes, source.notes) if n and n.strip()]
    return "\n\n".join(dict.fromkeys(parts))


def plan_merge(source: Customer, target: Customer, choices: dict) -> Plan:
    """Work out the survivor's values and what moves, checking the result is a valid customer."""
    choices = {**default_choices(source, target), **{k: v for k, v in (choices or {}).items() if v}}
    values = {}
    for name, _ in CHOICE_FIELDS:
        values[name] = getattr(source if choices[name] == "source" else target, name)
    values["email_normalized"] = (values["email"] or "").strip().lower() or None
    how = choices["notes"] if choices["notes"] in NOTES_CHOICES else "join"
    values["notes"] = joined_notes(source, target, how)
    if len(values["notes"]) > NOTES_MAX:
        raise Invalid(
            "notes",
            f"Joined, the notes are {len(values['notes']):,} characters, over the {NOTES_MAX:,} limit. "
            "Keep one side's notes (you can add to them after the merge).",
        )
    values["is_dummy"] = source.is_dummy and target.is_dummy
    values["dummy_label"] = target.dummy_label if target.is_dummy and values["is_dummy"] else ""
    if not values["is_dummy"]:
        if not (values["first_name"] or "").strip():
            raise Invalid(
                "first_name", "The merged customer needs a first name: choose the side that has one."
            )
        if not values["email"] and not values["phone"]:
            raise Invalid(
                "email", "The merged customer needs an email or a phone: choose a side that has one."
            )
    carried = _stricter(source, target)
    if carried:
        values.update({name: getattr(source, name) for name in RESTRICTION_FIELDS})
    changed = {
        name: (getattr(target, name), v)
        for name, v in values.items()
        if getattr(target, name) != v and name != "email_normalized"
    }
    return Plan(
        values=values,
        changed=changed,
        moves=rows.count_movable(source.business_id, source.id, skip=queries.MONEY_TABLES),
        tags_added=rows.links_added(Tag, customer_tag, "tag_id", source, target),
        locations_added=rows.links_added(Location, customer_location, "location_id", source, target),
        consents_from_source=len(rows.consents_of(source.id)),
        restriction_carried=bool(carried),
        notes=how,
        money=queries.money_moves(source.business_id, source.id),
    )


def _stricter(source: Customer, target: Customer) -> bool:
    """True when the duplicate's restriction is stricter than the survivor's (so it must carry over)."""
    rank = {None: 0, "warn": 1, "block": 2}
    return rank[source.restriction] > rank[target.restriction]


def lock_pair(source: Customer, target: Customer) -> None:
    """Lock both rows (PostgreSQL: SELECT … FOR UPDATE, in id order; SQLite: the write lock first) and
    reload them as committed, before reading anything a merge moves."""
    lock_customers(source.id, target.id)


def check_versions(source: Customer, target: Customer, expected: dict | None) -> None:
    """Refuse when either record changed since the manager opened the merge screen."""
    for c, key in ((source, "source"), (target, "target")):
        want = (expected or {}).get(key)
        if want is not None and int(want) != c.version:
            raise Conflict(
                c,
                f"{c.display_name} was changed by someone else since you opened this screen. "
                "Review the records again before merging.",
            )


def merge_customers(
    source: Customer,
    target: Customer,
    choices: dict | None,
    actor: StaffUser | None,
    expected_versions: dict | None = None,
    business_id: int | None = None,
) -> AuditEvent:
    """Move everything of `source` to `target` and leave `source` as a pointer. Caller commits.

    On any error the caller must roll back: nothing is half done once the transaction is undone.
    For an API key pass actor=None and the key's `business_id` (the audit names the key)."""
    business_id = business_id if business_id is not None else actor.business_id
    check_pair(source, target, business_id)
    lock_pair(source, target)
    check_pair(source, target, business_id)  # again, now that the rows are locked and fresh
    check_versions(source, target, expected_versions)
    plan = plan_merge(source, target, choices or {})
    merged_at = utcnow()
    log = {
        "source_id": str(source.id),
        "source_name": source.display_name,
        "target_name": target.display_name,
        "merged_at": merged_at.isoformat(),
        "source_before": snapshot(source),
        "target_before": snapshot(target),
        "fields": {k: {"old": to_json(o), "new": to_json(n)} for k, (o, n) in plan.changed.items()},
        "notes_choice": plan.notes,
    }
    log["moved"] = rows.move_rows(target.business_id, source.id, target.id)
    log.update(rows.merge_links(source, target))
    log["consents"] = rows.merge_consents(source, target)
    try:
        _apply_values(source, target, plan, merged_at)
    except StaleDataError:
        raise Invalid(
            None, "Someone else changed one of these customers at the same moment. Try again."
        ) from None
    log["points"] = rows.points_moved(log["moved"])
    log["contact_history_ids"] = _remember_contacts(source, target, log["source_before"])
    log["candidates"] = candidates.forget_candidates(target.business_id, [source.id])
    # bookings recounts both; money sets both balances from the moved rows (`moved`: table -> ids)
    signals.customers_merged.send(target, source=source, actor=actor, moved=log["moved"])
    event = record(actor, "customer.merged", target, **log)
    record(actor, "customer.merged_away", source, into_id=str(target.id), into_name=target.display_name)
    db.session.flush()
    return event


def _apply_values(source: Customer, target: Customer, plan: Plan, merged_at: datetime) -> None:
    """Free the source's unique contact details, then give the target its chosen values."""
    source.email = source.email_normalized = source.phone = None
    source.merged_into_id, source.merged_at = target.id, merged_at
    db.session.flush()
    for name, value in plan.values.items():
        setattr(target, name, value)
    target.updated_at = merged_at  # bumps the version: open edit forms of the survivor become stale
    db.session.flush()


def _remember_contacts(source: Customer, target: Customer, before: dict) -> list[int]:
    """The duplicate's email and phone become former contact details of the survivor (ban evasion)."""
    if not before["email_normalized"] and not before["phone"]:
        return []
    row = CustomerContactHistory(
        business_id=target.business_id,
        customer_id=target.id,
        email_normalized=before["email_normalized"],
        phone=before["phone"],
        why="merged",
    )
    db.session.add(row)
    db.session.flush()
    return [row.id]


def transfer_bookings(
    source: Customer,
    target: Customer,
    actor: StaffUser | None,
    actor_label: str | None = None,
    business_id: int | None = None,
) -> int:
    """Move every booking of `source` to `target` (both stay customers); returns how many. Caller commits.

    For an API key pass actor=None, its `actor_label` and the key's `business_id`."""
    business_id = business_id if business_id is not None else actor.business_id
    check_pair(source, target, business_id)
    lock_pair(source, target)
    check_pair(source, target, business_id)
    moved = rows.move_rows(business_id, source.id, target.id, only=("booking",)).get("booking", [])
    if not moved:
        raise Invalid(None, f"{source.display_name} has no bookings to transfer.")
    signals.bookings_transferred.send(target, source=source, actor=actor)  # bookings recounts both
    record(
        actor,
        "customer.bookings_transferred",
        target,
        actor_label=actor_label,
        from_id=str(source.id),
        from_name=source.display_name,
        bookings=moved,
    )
    record(
        actor,
        "customer.bookings_transferred_away",
        source,
        actor_label=actor_label,
        to_id=str(target.id),
        to_name=target.display_name,
        count=len(moved),
    )
    db.session.flush()
    return len(moved)
