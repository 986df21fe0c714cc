"""Stamp-card programs: what a card of the business collects stamps for, and the reward when it is full."""

from sqlalchemy import func, select

from webapp.audit import record
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business, CardProgram

MAX_STAMPS_REQUIRED = 100
FIELDS = ("name", "stamps_required", "reward", "welcome_stamps", "stamp_on_complete", "active")


def _whole(value, field: str, label: str, low: int, high: int) -> int:
    """An integer in low..high, or Invalid on `field` saying so."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise Invalid(field, f"{label} must be a whole number.") from None
    if not low <= value <= high:
        raise Invalid(field, f"{label} must be between {low} and {high}.")
    return value


def _checked(business_id: int, values: dict, program_id: int | None = None) -> dict:
    """The program's values cleaned, or Invalid on the first field that breaks a rule."""
    name = (values.get("name") or "").strip()
    if not name:
        raise Invalid("name", "Give the card a name, such as “Blow-dry card”.")
    if len(name) > 80:
        raise Invalid("name", "Keep the name to 80 characters.")
    clash = db.session.scalar(
        select(CardProgram.id).where(
            CardProgram.business_id == business_id,
            func.lower(CardProgram.name) == name.lower(),
            CardProgram.id != (program_id or 0),
        )
    )
    if clash:
        raise Invalid("name", f"There is already a card called {name!r}.")
    required = _whole(
        values.get("stamps_required"), "stamps_required", "Stamps needed", 1, MAX_STAMPS_REQUIRED
    )
    reward = (values.get("reward") or "").strip()
    if not reward:
        raise Invalid("reward", "Say what a full card earns, such as “Free blow-dry”.")
    if len(reward) > 120:
        raise Invalid("reward", "Keep the reward to 120 characters.")
    welcome = _whole(values.get("welcome_stamps") or 0, "welcome_stamps", "Welcome stamps", 0, required - 1)
    return {
        "name": name,
        "stamps_required": required,
        "reward": reward,
        "welcome_stamps": welcome,
        "stamp_on_complete": bool(values.get("stamp_on_complete")),
        "active": bool(values.get("active", True)),
    }


def create_program(
    business: Business,
    *,
    name: str,
    stamps_required: int,
    reward: str,
    welcome_stamps: int = 0,
    stamp_on_complete: bool = False,
    active: bool = True,
    actor,
) -> CardProgram:
    """A new stamp-card program of the business. Caller commits."""
    values = _checked(
        business.id,
        {
            "name": name,
            "stamps_required": stamps_required,
            "reward": reward,
            "welcome_stamps": welcome_stamps,
            "stamp_on_complete": stamp_on_complete,
            "active": active,
        },
    )
    program = CardProgram(business_id=business.id, **values)
    db.session.add(program)
    db.session.flush()
    record(actor, "card_program.created", business_id=business.id, program_id=program.id, **values)
    return program


def update_program(program: CardProgram, *, actor, **fields) -> CardProgram:
    """Change the fields given (see FIELDS); cards keep their stamps. Caller commits."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise Invalid(sorted(unknown)[0], "This field cannot be changed.")
    current = {name: getattr(program, name) for name in FIELDS}
    values = _checked(program.business_id, {**current, **fields}, program.id)
    changed = {k: [current[k], v] for k, v in values.items() if current[k] != v}
    for k, v in values.items():
        setattr(program, k, v)
    if changed:
        record(
            actor, "card_program.updated", business_id=program.business_id, program_id=program.id, **changed
        )
    db.session.flush()
    return program


def card_title(program: CardProgram) -> str:
    """How people name a card of the program: "Blow-dry card" as it is, "Coffee" as "Coffee card"."""
    name = program.name
    return name if name.lower().endswith("card") else f"{name} card"


def programs_of(business: Business, *, active_only: bool = False) -> list[CardProgram]:
    """The business's programs by name (only the ones open to new cards when `active_only`)."""
    query = select(CardProgram).where(CardProgram.business_id == business.id)
    if active_only:
        query = query.where(CardProgram.active)
    return list(db.session.scalars(query.order_by(CardProgram.name, CardProgram.id)))


def program_for(business_id: int, program_id) -> CardProgram | None:
    """One program of the business, or None (another business's id included)."""
    try:
        program_id = int(program_id)
    except (TypeError, ValueError):
        return None
    if not 0 < program_id < 2**31:
        return None
    return db.session.scalar(
        select(CardProgram).where(CardProgram.business_id == business_id, CardProgram.id == program_id)
    )
