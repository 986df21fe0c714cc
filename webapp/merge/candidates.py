"""Duplicate candidates: match keys per customer, pairs found by blocking on those keys, dismissals."""

import time
import uuid
from collections import defaultdict
from itertools import combinations

from sqlalchemy import and_, delete, func, insert, or_, select

from webapp.audit import record
from webapp.database import utcnow
from webapp.extensions import db
from webapp.merge import names
from webapp.models import (
    Customer,
    CustomerMatchKey,
    DismissedPair,
    DuplicateCandidate,
    DuplicateScan,
    StaffUser,
)
from webapp.models.customer import LEAN

KINDS = ("phone_key", "email_key", "last_dob_key", "first_dob_key", "name_key")
REASON_OF_KIND = {
    "phone_key": "phone",
    "email_key": "email",
    "last_dob_key": "name_dob",
    "first_dob_key": "name_dob",
    "name_key": "name",
}
BASE_SCORE = {"email": 95, "phone": 90, "name_dob": 90, "name": 60}
MAX_GROUP = 20  # a phone or name shared by more people than this is not a duplicate signal
CHUNK = 5000
REASON_LABELS = {
    "email": "Same email",
    "phone": "Same phone",
    "name_dob": "Similar name, same birth date",
    "name": "Same name, no birth date",
}


def ordered(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A pair in its stored order (a < b)."""
    return (a, b) if a < b else (b, a)


def live(business_id: int):
    """Customers that can take part in a duplicate pair."""
    return and_(
        Customer.business_id == business_id,
        Customer.merged_into_id.is_(None),
        Customer.anonymized_at.is_(None),
    )


def _key_rows(business_id: int, customer_ids=None):
    """Match-key rows for the live customers of a business (or some of them), computed in Python."""
    query = select(
        Customer.id,
        Customer.first_name,
        Customer.last_name,
        Customer.email,
        Customer.phone,
        Customer.date_of_birth,
    ).where(live(business_id))
    if customer_ids is not None:
        query = query.where(Customer.id.in_(list(customer_ids)))
    result = db.session.execute(query.execution_options(yield_per=CHUNK))
    for cid, first, last, email, phone, dob in result:
        yield {
            "customer_id": cid,
            "business_id": business_id,
            **names.keys_for(first, last, email, phone, dob),
        }


def _store_keys(business_id: int, customer_ids=None) -> int:
    """Replace the stored match keys (all of a business's, or some customers'); returns rows written."""
    stmt = delete(CustomerMatchKey).where(CustomerMatchKey.business_id == business_id)
    if customer_ids is not None:
        stmt = stmt.where(CustomerMatchKey.customer_id.in_(list(customer_ids)))
    db.session.execute(stmt)
    rows = list(_key_rows(business_id, customer_ids)) if customer_ids is not None else None
    written = 0
    batch: list[dict] = []
    for row in rows if rows is not None else _key_rows(business_id):
        batch.append(row)
        if len(batch) >= CHUNK:
            db.session.execute(insert(CustomerMatchKey.__table__), batch)
            written += len(batch)
            batch = []
    if batch:
        db.session.execute(insert(CustomerMatchKey.__table__), batch)
        written += len(batch)
    return written


def _groups(business_id: int, kind: str, only_keys=None) -> dict[str, list[tuple]]:
    """Customers sharing a value of key `kind`: key -> [(customer_id, first, last)] (2 to MAX_GROUP each)."""
    col = getattr(CustomerMatchKey, kind)
    query = (
        select(col, CustomerMatchKey.customer_id, Customer.first_name, Customer.last_name)
        .join(Customer, Customer.id == CustomerMatchKey.customer_id)
        .where(CustomerMatchKey.business_id == business_id)
    )
    if only_keys is None:
        shared = (
            select(col)
            .where(CustomerMatchKey.business_id == business_id, col.is_not(None))
            .group_by(col)
            .having(func.count().between(2, MAX_GROUP))
        )
        query = query.where(col.in_(shared))
    else:
        if not only_keys:
            return {}
        query = query.where(col.in_(list(only_keys)))
    groups: dict[str, list[tuple]] = defaultdict(list)
    for key, cid, first, last in db.session.execute(query):
        groups[key].append((cid, first, last))
    return {k: v for k, v in groups.items() if 2 <= len(v) <= MAX_GROUP}


def _similar(a: tuple, b: tuple) -> int | None:
    """Typos between two names in the same birth-date block, or None when too different."""
    distance = names.name_distance(a[1], a[2], b[1], b[2])
    shortest = min(len(names.fold(a[1]) + names.fold(a[2])), len(names.fold(b[1]) + names.fold(b[2])))
    if distance <= 1 or (distance == 2 and shortest >= 8):
        return distance
    return None


def _find_pairs(business_id: int, only_ids=None) -> dict[tuple, dict]:
    """(a, b) -> {"reasons": set, "distance": int} from the stored keys."""
    only_keys = None
    if only_ids is not None:
        rows = db.session.execute(
            select(*(getattr(CustomerMatchKey, k) for k in KINDS)).where(
                CustomerMatchKey.customer_id.in_(list(only_ids))
            )
        ).all()
        only_keys = {k: {r[i] for r in rows if r[i]} for i, k in enumerate(KINDS)}
    pairs: dict[tuple, dict] = {}
    for kind in KINDS:
        reason = REASON_OF_KIND[kind]
        for members in _groups(business_id, kind, only_keys[kind] if only_keys else None).values():
            for x, y in combinations(members, 2):
                if only_ids is not None and x[0] not in only_ids and y[0] not in only_ids:
                    continue
                distance = 0
                if reason == "name_dob":
                    distance = _similar(x, y)
                    if distance is None:
                        continue
                entry = pairs.setdefault(ordered(x[0], y[0]), {"reasons": set(), "distance": 0})
                entry["reasons"].add(reason)
                entry["distance"] = max(entry["distance"], distance)
    return pairs


def score(reasons: set[str], distance: int = 0) -> int:
    """0-100: the strongest reason, less for typos, more for each extra reason."""
    bases = sorted((BASE_SCORE[r] - (10 * distance if r == "name_dob" else 0) for r in reasons), reverse=True)
    return min(100, bases[0] + 5 * (len(bases) - 1))


def _write_candidates(business_id: int, pairs: dict) -> int:
    """Insert candidate rows for pairs not dismissed; returns how many."""
    dismissed = set(
        db.session.execute(
            select(DismissedPair.customer_a_id, DismissedPair.customer_b_id).where(
                DismissedPair.business_id == business_id
            )
        ).all()
    )
    now = utcnow()
    rows = [
        {
            "business_id": business_id,
            "customer_a_id": a,
            "customer_b_id": b,
            "score": score(info["reasons"], info["distance"]),
            "reasons": ",".join(sorted(info["reasons"]))
            + (f":{info['distance']}" if info["distance"] else ""),
            "created_at": now,
        }
        for (a, b), info in pairs.items()
        if (a, b) not in dismissed
    ]
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(DuplicateCandidate.__table__), rows[i : i + CHUNK])
    return len(rows)


def refresh_duplicates(business_id: int) -> DuplicateScan:
    """Recompute every match key and candidate pair of a business. Caller commits."""
    started = time.perf_counter()
    customers = _store_keys(business_id)
    db.session.execute(delete(DuplicateCandidate).where(DuplicateCandidate.business_id == business_id))
    found = _write_candidates(business_id, _find_pairs(business_id))
    scan = db.session.get(DuplicateScan, business_id) or DuplicateScan(business_id=business_id)
    scan.finished_at, scan.customers, scan.candidates = utcnow(), customers, found
    scan.seconds = round(time.perf_counter() - started, 3)
    db.session.add(scan)
    db.session.flush()
    return scan


def refresh_for_customers(business_id: int, customer_ids) -> int:
    """Recompute the keys and pairs of a few customers (after an edit or an undo). Caller commits."""
    ids = set(customer_ids)
    _store_keys(business_id, ids)
    forget_candidates(business_id, ids)
    return _write_candidates(business_id, _find_pairs(business_id, only_ids=ids))


def forget_candidates(business_id: int, customer_ids) -> list[dict]:
    """Delete the candidate pairs involving these customers; returns them (JSON-ready) for undo."""
    ids = list(customer_ids)
    involving = and_(
        DuplicateCandidate.business_id == business_id,
        or_(DuplicateCandidate.customer_a_id.in_(ids), DuplicateCandidate.customer_b_id.in_(ids)),
    )
    gone = [
        {"a": str(c.customer_a_id), "b": str(c.customer_b_id), "score": c.score, "reasons": c.reasons}
        for c in db.session.scalars(select(DuplicateCandidate).where(involving))
    ]
    db.session.execute(delete(DuplicateCandidate).where(involving))
    return gone


def dismiss_pair(business_id: int, a_id: uuid.UUID, b_id: uuid.UUID, actor: StaffUser) -> None:
    """Mark two customers as not the same person, for good. Caller commits."""
    a_id, b_id = ordered(a_id, b_id)
    key = {"business_id": business_id, "customer_a_id": a_id, "customer_b_id": b_id}
    if db.session.get(DismissedPair, (business_id, a_id, b_id)) is None:
        db.session.add(DismissedPair(**key, dismissed_by_id=actor.id))
    db.session.execute(delete(DuplicateCandidate).filter_by(**key))
    a = db.session.get(Customer, a_id, options=LEAN)
    record(actor, "customer.not_duplicate", a, other_id=str(b_id))
    db.session.flush()


def describe(reasons: str) -> list[str]:
    """Why a pair was flagged, for people: "name_dob:1" -> "Similar name (1 typo), same birth date"."""
    text, _, distance = reasons.partition(":")
    out = []
    for r in text.split(","):
        label = REASON_LABELS.get(r, r)
        if r == "name_dob":
            label = (
                f"Similar name ({distance} typo{'s' if distance != '1' else ''}), same birth date"
                if distance
                else "Same name, same birth date"
            )
        out.append(label)
    return out
