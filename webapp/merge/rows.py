"""Set-based moves of a customer's rows (bookings and anything keyed by customer), and back."""

import uuid
from datetime import datetime

from sqlalchemy import Uuid, delete, func, insert, select, update

from webapp.extensions import db
from webapp.models import Customer, CustomerConsent
from webapp.models.customer import customer_location, customer_tag

# Tables with a customer_id that a merge handles by rule (or must never move).
NOT_MOVED = {
    "customer",
    "customer_tag",
    "customer_location",
    "customer_consent",
    "customer_match_key",
    "customer_contact_history",
    "duplicate_candidate",
    "dismissed_pair",
    "audit_event",
}
LABELS = {
    "booking": ("booking", "bookings"),
    "sale": ("sale", "sales"),
    "points_transaction": ("points entry", "points entries"),
    "customer_card": ("stamp card", "stamp cards"),
    "outbox_message": ("email", "emails"),
}
CHUNK = 5000  # keys per UPDATE … WHERE id IN (…): under SQLite's and PostgreSQL's parameter limits


def label(table_name: str, count: int) -> str:
    """ "3 bookings", "1 sale", "2 ledger entries"."""
    one, many = LABELS.get(table_name, (table_name.replace("_", " "), None))
    if many is None:
        many = one[:-1] + "ies" if one.endswith("y") else one + "s"
    return f"{count:,} {one if count == 1 else many}"


def movable_tables():
    """(table, primary key column) for every table whose rows belong to a customer: bookings, and
    whatever other features add (sales, points, cards, ledger entries) without changing this module."""
    for table in db.metadata.sorted_tables:
        if table.name in NOT_MOVED or "customer_id" not in table.c:
            continue
        column = table.c.customer_id
        if not any(fk.column.table.name == "customer" for fk in column.foreign_keys):
            continue
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0] is not column:
            yield table, pk[0]


def owned_by(table, business_id: int, customer_id: uuid.UUID) -> list:
    """WHERE clauses for one customer's rows, business first so the tenant-leading indexes serve them."""
    where = [table.c.customer_id == customer_id]
    if "business_id" in table.c:
        where.insert(0, table.c.business_id == business_id)
    return where


def count_movable(business_id: int, source_id: uuid.UUID, skip=()) -> dict[str, int]:
    """table name -> how many of the customer's rows a merge would move (tables in `skip` left out)."""
    counts = {}
    for table, _ in movable_tables():
        if table.name in skip:
            continue
        counts[table.name] = db.session.scalar(
            select(func.count()).select_from(table).where(*owned_by(table, business_id, source_id))
        )
    return counts


def _keep_timestamps(table) -> dict:
    """Columns with an on-update default, set to themselves so a move does not look like an edit."""
    return {c.name: c for c in table.c if c.onupdate is not None}


def move_rows(business_id: int, source_id: uuid.UUID, target_id: uuid.UUID, only=None) -> dict[str, list]:
    """Re-point every row of the source to the target, one UPDATE per table; returns the moved keys."""
    moved = {}
    for table, pk in movable_tables():
        if only is not None and table.name not in only:
            continue
        ids = db.session.scalars(
            update(table)
            .where(*owned_by(table, business_id, source_id))
            .values(customer_id=target_id, **_keep_timestamps(table))
            .returning(pk)
        ).all()
        if ids:
            moved[table.name] = sorted(str(i) if isinstance(i, uuid.UUID) else i for i in ids)
    return moved


def move_back(moved: dict, source_id: uuid.UUID, target_id: uuid.UUID) -> tuple[int, int]:
    """Return the recorded rows still on the target to the source; (moved back, left where they are)."""
    tables = {t.name: (t, pk) for t, pk in movable_tables()}
    back = stayed = 0
    for name, ids in moved.items():
        if name not in tables:
            stayed += len(ids)
            continue
        table, pk = tables[name]
        keys = [uuid.UUID(i) for i in ids] if isinstance(pk.type, Uuid) else ids
        for i in range(0, len(keys), CHUNK):
            result = db.session.execute(
                update(table)
                .where(pk.in_(keys[i : i + CHUNK]), table.c.customer_id == target_id)
                .values(customer_id=source_id, **_keep_timestamps(table))
            )
            back += result.rowcount
        stayed += len(keys)
    return back, stayed - back


LINKS = (("tags", customer_tag, "tag_id"), ("locations", customer_location, "location_id"))


def links_added(model, table, col: str, source: Customer, target: Customer) -> list:
    """The tags (or locations) the duplicate has and the survivor lacks: what a merge adds."""
    ours = select(table.c[col]).where(*owned_by(table, target.business_id, target.id))
    return list(
        db.session.scalars(
            select(model)
            .join(table, table.c[col] == model.id)
            .where(*owned_by(table, source.business_id, source.id), model.id.not_in(ours))
            .order_by(model.name)
        )
    )


def merge_links(source: Customer, target: Customer) -> dict:
    """Tags and locations: the survivor gets the union; the duplicate's links are removed."""
    log, b = {}, target.business_id
    for key, table, col in LINKS:
        theirs = db.session.scalars(select(table.c[col]).where(*owned_by(table, b, source.id))).all()
        ours = set(db.session.scalars(select(table.c[col]).where(*owned_by(table, b, target.id))))
        added = [x for x in theirs if x not in ours]
        if added:
            db.session.execute(
                insert(table),
                [{"business_id": target.business_id, "customer_id": target.id, col: x} for x in added],
            )
        db.session.execute(delete(table).where(*owned_by(table, b, source.id)))
        log[key] = {"source": list(theirs), "added": added}
    db.session.expire(source, ["tags", "locations"])
    db.session.expire(target, ["tags", "locations"])
    return log


def unmerge_links(source: Customer, target: Customer, log: dict) -> None:
    """Take back what the merge added to the survivor and give the duplicate its own links again."""
    for key, table, col in LINKS:
        entry = log.get(key) or {}
        if entry.get("added"):
            db.session.execute(
                delete(table).where(
                    *owned_by(table, target.business_id, target.id), table.c[col].in_(entry["added"])
                )
            )
        if entry.get("source"):
            parent = table.c[col].foreign_keys.__iter__().__next__().column.table
            still = set(db.session.scalars(select(parent.c.id).where(parent.c.id.in_(entry["source"]))))
            present = set(
                db.session.scalars(
                    select(table.c[col]).where(*owned_by(table, source.business_id, source.id))
                )
            )
            rows = [
                {"business_id": source.business_id, "customer_id": source.id, col: x}
                for x in entry["source"]
                if x in still and x not in present
            ]
            if rows:
                db.session.execute(insert(table), rows)
    db.session.expire(source, ["tags", "locations"])
    db.session.expire(target, ["tags", "locations"])


def _consent_json(c: CustomerConsent) -> dict:
    return {
        "preference_id": c.preference_id,
        "opted_in": c.opted_in,
        "changed_at": c.changed_at.isoformat(),
        "changed_by_id": c.changed_by_id,
    }


def _consent_values(d: dict) -> dict:
    return {
        "opted_in": d["opted_in"],
        "changed_at": datetime.fromisoformat(d["changed_at"]),
        "changed_by_id": d["changed_by_id"],
    }


def consents_of(customer_id) -> dict[int, CustomerConsent]:
    return {
        c.preference_id: c
        for c in db.session.scalars(
            select(CustomerConsent)
            .where(CustomerConsent.customer_id == customer_id)
            .execution_options(populate_existing=True)
        )
    }


def merge_consents(source: Customer, target: Customer) -> dict:
    """Per preference, the latest change wins; the duplicate's answers are removed (kept in the log)."""
    table = CustomerConsent.__table__
    theirs, ours = consents_of(source.id), consents_of(target.id)
    log = {"source": [_consent_json(c) for c in theirs.values()], "added": [], "replaced": []}
    for pid, s in theirs.items():
        t = ours.get(pid)
        if t is None:
            db.session.execute(
                insert(table).values(
                    customer_id=target.id,
                    preference_id=pid,
                    business_id=target.business_id,
                    **_consent_values(_consent_json(s)),
                )
            )
            log["added"].append(_consent_json(s))
        elif s.changed_at > t.changed_at:
            log["replaced"].append({"old": _consent_json(t), "new": _consent_json(s)})
            db.session.execute(
                update(table)
                .where(table.c.customer_id == target.id, table.c.preference_id == pid)
                .values(**_consent_values(_consent_json(s)))
            )
    db.session.execute(delete(table).where(table.c.customer_id == source.id))
    for c in (source, target):
        db.session.expire(c, ["consents"])
    return log


def unmerge_consents(source: Customer, target: Customer, log: dict) -> None:
    """Restore the duplicate's answers; undo the survivor's changes unless they changed again since."""
    table = CustomerConsent.__table__
    ours = consents_of(target.id)
    for d in log.get("added", []):
        current = ours.get(d["preference_id"])
        if current is not None and current.changed_at == datetime.fromisoformat(d["changed_at"]):
            db.session.execute(
                delete(table).where(
                    table.c.customer_id == target.id, table.c.preference_id == d["preference_id"]
                )
            )
    for pair in log.get("replaced", []):
        current = ours.get(pair["old"]["preference_id"])
        if current is not None and current.changed_at == datetime.fromisoformat(pair["new"]["changed_at"]):
            db.session.execute(
                update(table)
                .where(
                    table.c.customer_id == target.id, table.c.preference_id == pair["old"]["preference_id"]
                )
                .values(**_consent_values(pair["old"]))
            )
    present = set(consents_of(source.id))
    for d in log.get("source", []):
        if d["preference_id"] not in present:
            db.session.execute(
                insert(table).values(
                    customer_id=source.id,
                    preference_id=d["preference_id"],
                    business_id=source.business_id,
                    **_consent_values(d),
                )
            )
    for c in (source, target):
        db.session.expire(c, ["consents"])


def points_moved(moved: dict) -> int:
    """What the moved points rows add up to (the duplicate's points, as the API's transfer reports
    them). The balances themselves follow the rows: money recounts both customers on the signal."""
    table = db.metadata.tables.get("points_transaction")
    ids = moved.get("points_transaction") or []
    total = 0
    for i in range(0, len(ids), CHUNK):
        total += db.session.scalar(
            select(func.coalesce(func.sum(table.c.points), 0)).where(table.c.id.in_(ids[i : i + CHUNK]))
        )
    return total
