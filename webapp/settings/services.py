"""Rules for the business's own settings, locations and staff accounts."""

import zoneinfo

import phonenumbers
from babel.numbers import list_currencies
from sqlalchemy import func, select

from webapp.audit import record
from webapp.auth.passwords import hash_password, password_problem
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Business, Location, StaffUser
from webapp.models.locks import lock_business
from webapp.models.staff import ROLES


def check_business_settings(timezone: str, region: str, currency: str) -> None:
    """Raise when the timezone, phone region or currency is not a real one."""
    if timezone not in zoneinfo.available_timezones():
        raise Invalid("timezone", "Choose a timezone from the list, such as Europe/London.")
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid("phone_region", "Use a two-letter country code, such as GB or AU.")
    if currency.upper() not in list_currencies():
        raise Invalid("currency", "Use a three-letter currency code, such as GBP or EUR.")


def create_business(
    name: str, *, timezone: str = "UTC", region: str = "GB", currency: str = "GBP"
) -> Business:
    """A new tenant with one location named after it. Caller commits."""
    name = name.strip()
    if not name:
        raise Invalid("name", "Give the business a name.")
    if db.session.scalar(select(Business.id).where(func.lower(Business.name) == name.lower())):
        raise Invalid("name", f"A business called {name!r} already exists.")
    check_business_settings(timezone, region, currency)
    business = Business(name=name, timezone=timezone, phone_region=region.upper(), currency=currency.upper())
    db.session.add(business)
    db.session.flush()
    db.session.add(Location(business_id=business.id, name="Main"))
    db.session.flush()
    return business


def update_business(business: Business, actor: StaffUser, **values) -> None:
    """Change the business's name, timezone, region and currency. Caller commits."""
    check_business_settings(values["timezone"], values["phone_region"], values["currency"])
    name = values["name"].strip()
    clash = db.session.scalar(
        select(Business.id).where(func.lower(Business.name) == name.lower(), Business.id != business.id)
    )
    if clash:
        raise Invalid("name", "Another business already uses that name.")
    values = {
        **values,
        "name": name,
        "phone_region": values["phone_region"].upper(),
        "currency": values["currency"].upper(),
    }
    changed = {k: [getattr(business, k), v] for k, v in values.items() if getattr(business, k) != v}
    for k, v in values.items():
        setattr(business, k, v)
    if changed:
        record(actor, "business.updated", business_id=business.id, **changed)
    db.session.flush()


def add_location(business: Business, name: str, actor: StaffUser) -> Location:
    """A new venue. Caller commits."""
    name = name.strip()
    if not name:
        raise Invalid("name", "Give the location a name.")
    if _location_named(business.id, name):
        raise Invalid("name", f"There is already a location called {name!r}.")
    location = Location(business_id=business.id, name=name)
    db.session.add(location)
    db.session.flush()
    record(actor, "location.added", business_id=business.id, location=name)
    return location


def rename_location(location: Location, name: str, actor: StaffUser) -> None:
    """Rename a venue. Caller commits."""
    name = name.strip()
    if not name:
        raise Invalid("name", "Give the location a name.")
    other = _location_named(location.business_id, name)
    if other and other != location.id:
        raise Invalid("name", f"There is already a location called {name!r}.")
    record(actor, "location.renamed", business_id=location.business_id, name=[location.name, name])
    location.name = name
    db.session.flush()


def set_location_active(location: Location, active: bool, actor: StaffUser) -> None:
    """Deactivate or reactivate a venue; the last active one stays. Caller commits."""
    if not active:
        others = db.session.scalar(
            select(func.count()).where(
                Location.business_id == location.business_id, Location.active, Location.id != location.id
            )
        )
        if not others:
            raise Invalid("location", "Keep at least one active location.")
        db.session.execute(
            StaffUser.__table__.update()
            .where(StaffUser.current_location_id == location.id)
            .values(current_location_id=None)
        )
    location.active = active
    record(
        actor,
        "location.activated" if active else "location.deactivated",
        business_id=location.business_id,
        location=location.name,
    )
    db.session.flush()


def _location_named(business_id: int, name: str) -> int | None:
    return db.session.scalar(
        select(Location.id).where(
            Location.business_id == business_id, func.lower(Location.name) == name.lower()
        )
    )


def create_staff(
    business: Business,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    actor: StaffUser | None,
    must_change: bool = True,
) -> StaffUser:
    """A new staff account with a first password they must change. Caller commits."""
    email = email.strip().lower()
    if role not in ROLES:
        raise Invalid("role", "Choose owner, manager or receptionist.")
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        # Emails sign in across every business: say nothing about whose it is.
        raise Invalid("email", "That email can't be used for a new colleague; use another.")
    problem = password_problem(password, email)
    if problem:
        raise Invalid("password", problem)
    first_location = db.session.scalar(
        select(Location.id).where(Location.business_id == business.id, Location.active).order_by(Location.id)
    )
    user = StaffUser(
        business_id=business.id,
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        must_change_password=must_change,
        current_location_id=first_location,
    )
    db.session.add(user)
    db.session.flush()
    record(
        actor,
        "staff.added",
        business_id=business.id,
        actor_label=None if actor else "command line",
        email=email,
        role=role,
    )
    return user


def change_staff(user: StaffUser, *, role: str, active: bool, actor: StaffUser) -> None:
    """Change a colleague's role or active flag; either ends their sessions. Caller commits."""
    if role not in ROLES:
        raise Invalid("role", "Choose owner, manager or receptionist.")
    if user.id == actor.id and (role != user.role or not active):
        raise Invalid("role", "You cannot change your own role or deactivate yourself.")
    if user.role == "owner" and (role != "owner" or not active):
        # Owners queue on the business's row, then count: two owners demoting each other at once
        # would each count the other and leave none. Both rows are reread as committed.
        lock_business(user.business_id)
        db.session.refresh(user)
        db.session.refresh(actor)
        if actor.role != "owner" or not actor.active:
            raise Invalid("role", "Your own role was changed meanwhile; only an owner can change colleagues.")
        owners = db.session.scalar(
            select(func.count()).where(
                StaffUser.business_id == user.business_id,
                StaffUser.role == "owner",
                StaffUser.active,
                StaffUser.id != user.id,
            )
        )
        if not owners:
            raise Invalid("role", "A business needs at least one active owner.")
    changes = {}
    if role != user.role:
        changes["role"] = [user.role, role]
    if active != user.active:
        changes["active"] = [user.active, active]
    if changes:
        user.role, user.active = role, active
        user.end_sessions()
        record(actor, "staff.changed", business_id=user.business_id, email=user.email, **changes)
    db.session.flush()
