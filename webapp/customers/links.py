"""What a customer is linked to: tags, locations and marketing consents (checked, replaced, audited)."""

from sqlalchemy import delete, insert, select

from webapp.audit import record
from webapp.database import utcnow
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import (
    Customer,
    CustomerConsent,
    Location,
    MarketingPreference,
    StaffUser,
    Tag,
    customer_location,
    customer_tag,
)


def owned_rows(model, business_id: int, ids, field: str, what: str) -> list:
    """Rows of `model` with these ids, all of this business, or Invalid on `field`."""
    try:
        wanted = {int(i) for i in ids or []}
    except (TypeError, ValueError):
        raise Invalid(field, f"Choose {what} from the list.") from None
    if not wanted:
        return []
    rows = db.session.scalars(
        select(model).where(model.business_id == business_id, model.id.in_(wanted))
    ).all()
    if len(rows) != len(wanted):
        raise Invalid(field, f"Choose {what} from the list; one of those does not exist (any more).")
    return sorted(rows, key=lambda r: r.name.casefold())


def check_consents(business_id: int, consents: dict | None) -> dict:
    """{preference: bool or None} for preferences of this business."""
    consents = consents or {}
    prefs = owned_rows(MarketingPreference, business_id, consents.keys(), "consents", "marketing preferences")
    by_id = {p.id: p for p in prefs}
    out = {}
    for key, answer in consents.items():
        if answer is not None and not isinstance(answer, bool):
            raise Invalid("consents", "Answer each marketing preference with yes or no.")
        out[by_id[int(key)]] = answer
    return out


def replace_links(customer: Customer, table, column: str, have: list, want: list) -> bool:
    """Make the customer's rows in a link table (tags, locations) exactly `want`; True if changed.
    Written with SQL because the link rows carry business_id, which the ORM collection cannot set."""
    have_ids, want_ids = {r.id for r in have}, {r.id for r in want}
    if have_ids == want_ids:
        return False
    gone, new = have_ids - want_ids, want_ids - have_ids
    if gone:
        db.session.execute(
            delete(table).where(
                table.c.business_id == customer.business_id,
                table.c.customer_id == customer.id,
                table.c[column].in_(gone),
            )
        )
    if new:
        db.session.execute(
            insert(table),
            [
                {"business_id": customer.business_id, "customer_id": customer.id, column: i}
                for i in sorted(new)
            ],
        )
    db.session.expire(customer, ["tags", "locations"])
    return True


def replace_tags(customer: Customer, tags: list[Tag]) -> dict:
    """Give the customer exactly these tags; returns {"tags": [old names, new names]} or {}."""
    old = [t.name for t in customer.tags]
    if not replace_links(customer, customer_tag, "tag_id", customer.tags, tags):
        return {}
    return {"tags": [old, [t.name for t in tags]]}


def replace_locations(customer: Customer, locations: list[Location]) -> dict:
    """Give the customer exactly these locations; returns {"locations": [old, new]} or {}."""
    old = [loc.name for loc in customer.locations]
    if not replace_links(customer, customer_location, "location_id", customer.locations, locations):
        return {}
    return {"locations": [old, [loc.name for loc in locations]]}


def set_tags(customer: Customer, tag_ids, actor: StaffUser | None) -> dict:
    """Replace the customer's tags with exactly these; returns the change (empty when none)."""
    tags = owned_rows(Tag, customer.business_id, tag_ids, "tag_ids", "tags")
    changed = replace_tags(customer, tags)
    if changed:
        customer.updated_at = utcnow()
        record(actor, "customer.tags_changed", customer, **changed)
        db.session.flush()
    return changed


def add_tags(customer: Customer, tag_ids, actor: StaffUser | None) -> dict:
    """Add these tags, keeping the ones the customer has (imports and upsert)."""
    tags = owned_rows(Tag, customer.business_id, tag_ids, "tag_ids", "tags")
    have = {t.id for t in customer.tags}
    return set_tags(customer, sorted(have | {t.id for t in tags}), actor)


def set_consents(customer: Customer, consents: dict, actor: StaffUser | None) -> dict:
    """Record opt-ins (True) and opt-outs (False) by preference id, with time and who; None leaves a
    preference as it is. Returns {preference name: [old, new]}."""
    return write_consents(customer, check_consents(customer.business_id, consents), actor)


def write_consents(customer: Customer, answers: dict, actor: StaffUser | None) -> dict:
    """Write checked answers ({preference: bool or None}); returns {preference name: [old, new]}."""
    current = {c.preference_id: c for c in customer.consents}
    changed = {}
    now = utcnow()
    for pref, answer in answers.items():
        if answer is None:
            continue
        row = current.get(pref.id)
        old = row.opted_in if row is not None else None
        if old == answer:
            continue
        if row is None:
            row = CustomerConsent(preference_id=pref.id, business_id=customer.business_id, preference=pref)
            customer.consents.append(row)
        row.opted_in, row.changed_at = answer, now
        row.changed_by_id = actor.id if actor is not None else None
        changed[pref.name] = [old, answer]
    if changed:
        record(actor, "customer.consents_changed", customer, **changed)
        db.session.flush()
    return changed
