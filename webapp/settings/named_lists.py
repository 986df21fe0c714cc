"""Rules for the business's two named lists: customer tags and marketing preferences.

Both are short names, unique in the business whatever their case, that customers point at; they share
one name check (`clean_name`, `ensure_unique`) and differ only in what else they carry (a tag's colour,
a preference's active flag) and in how they go away (a tag is deleted, a preference retired).
"""

from sqlalchemy import delete, func, select

from webapp.audit import record
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business, CustomerConsent, MarketingPreference, StaffUser, Tag, customer_tag

COLORS = ("grey", "gold", "green", "red", "blue", "purple")
TAG_NAME_MAX = 60
PREFERENCE_NAME_MAX = 80


# --- the shared name rules -------------------------------------------------------------------------


def clean_name(name: str | None, noun: str, max_length: int) -> str:
    """`name` with its whitespace collapsed; raises Invalid when it is empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("name", f"Give the {noun} a name.")
    if len(name) > max_length:
        raise Invalid("name", f"Use at most {max_length} characters for a {noun} name.")
    return name


def ensure_unique(model: type, business_id: int, name: str, noun: str, own_id: int | None = None) -> None:
    """Raise Invalid when another row of `model` in the business has this name, whatever its case."""
    clash = select(model.id).where(model.business_id == business_id, func.lower(model.name) == name.lower())
    if own_id is not None:
        clash = clash.where(model.id != own_id)
    if db.session.scalar(clash):
        raise Invalid("name", f"There is already a {noun} called {name!r}.")


# --- tags ------------------------------------------------------------------------------------------


def check_tag(business_id: int, name: str, color: str, tag_id: int | None = None) -> str:
    """The tag's clean name, once name and colour pass the rules."""
    name = clean_name(name, "tag", TAG_NAME_MAX)
    if color not in COLORS:
        raise Invalid("color", f"Choose a colour: {', '.join(COLORS)}.")
    ensure_unique(Tag, business_id, name, "tag", tag_id)
    return name


def create_tag(business: Business, name: str, color: str, actor: StaffUser) -> Tag:
    """A new tag; names are unique in the business, whatever their case. Caller commits."""
    tag = Tag(business_id=business.id, name=check_tag(business.id, name, color), color=color)
    db.session.add(tag)
    db.session.flush()
    record(actor, "tag.created", business_id=business.id, tag=tag.name, color=color)
    return tag


def update_tag(tag: Tag, name: str, color: str, actor: StaffUser) -> None:
    """Rename or recolour a tag (customers keep it). Caller commits."""
    name = check_tag(tag.business_id, name, color, tag.id)
    changes = {k: [getattr(tag, k), v] for k, v in (("name", name), ("color", color)) if getattr(tag, k) != v}
    tag.name, tag.color = name, color
    if changes:
        record(actor, "tag.updated", business_id=tag.business_id, tag=tag.name, **changes)
    db.session.flush()


def delete_tag(tag: Tag, actor: StaffUser | None) -> int:
    """Remove a tag from every customer and delete it; returns how many customers had it."""
    used = db.session.scalar(select(func.count()).where(customer_tag.c.tag_id == tag.id)) or 0
    db.session.execute(
        delete(customer_tag).where(
            customer_tag.c.business_id == tag.business_id, customer_tag.c.tag_id == tag.id
        )
    )
    record(actor, "tag.deleted", business_id=tag.business_id, tag=tag.name, customers=used)
    db.session.delete(tag)
    db.session.flush()
    return used


def tag_rows(business_id: int) -> list[tuple[Tag, int]]:
    """Each tag with how many customers have it (one grouped query)."""
    counts = (
        select(customer_tag.c.tag_id, func.count().label("n"))
        .where(customer_tag.c.business_id == business_id)
        .group_by(customer_tag.c.tag_id)
        .subquery()
    )
    return db.session.execute(
        select(Tag, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.tag_id == Tag.id)
        .where(Tag.business_id == business_id)
        .order_by(func.lower(Tag.name))
    ).all()


# --- marketing preferences -------------------------------------------------------------------------


def check_preference(business_id: int, name: str, pref_id: int | None = None) -> str:
    """The preference's clean name, once it passes the rules."""
    name = clean_name(name, "preference", PREFERENCE_NAME_MAX)
    ensure_unique(MarketingPreference, business_id, name, "preference", pref_id)
    return name


def create_preference(business: Business, name: str, actor: StaffUser) -> MarketingPreference:
    """A new marketing preference. Caller commits."""
    pref = MarketingPreference(business_id=business.id, name=check_preference(business.id, name))
    db.session.add(pref)
    db.session.flush()
    record(actor, "preference.created", business_id=business.id, preference=pref.name)
    return pref


def rename_preference(pref: MarketingPreference, name: str, actor: StaffUser) -> None:
    """Rename a preference (answers stay). Caller commits."""
    name = check_preference(pref.business_id, name, pref.id)
    if name != pref.name:
        record(actor, "preference.renamed", business_id=pref.business_id, name=[pref.name, name])
        pref.name = name
    db.session.flush()


def set_preference_active(pref: MarketingPreference, active: bool, actor: StaffUser) -> None:
    """Retire a preference (hidden from forms, answers kept) or bring it back. Caller commits."""
    if pref.active != active:
        pref.active = active
        action = "preference.restored" if active else "preference.retired"
        record(actor, action, business_id=pref.business_id, preference=pref.name)
    db.session.flush()


def preference_rows(business_id: int) -> list:
    """Each preference with how many customers opted in and out (one grouped query)."""
    opted_in = func.count(CustomerConsent.customer_id).filter(CustomerConsent.opted_in.is_(True))
    opted_out = func.count(CustomerConsent.customer_id).filter(CustomerConsent.opted_in.is_(False))
    return db.session.execute(
        select(MarketingPreference, opted_in, opted_out)
        .outerjoin(CustomerConsent, CustomerConsent.preference_id == MarketingPreference.id)
        .where(MarketingPreference.business_id == business_id)
        .group_by(MarketingPreference.id)
        .order_by(MarketingPreference.active.desc(), func.lower(MarketingPreference.name))
    ).all()
