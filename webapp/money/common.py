"""What every money service shares: who acted, the locked live customer, moving the stored balances."""

from __future__ import annotations

from sqlalchemy import update

from webapp.audit import record
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent, Customer, StaffUser
from webapp.models.locks import lock_customer
from webapp.money.amounts import INT32_MAX

BALANCES = ("total_spent", "total_orders", "points_balance", "ledger_balance")
REASON_MAX = 1000


def staff_id(actor) -> int | None:
    """The staff user's id for `created_by_id` (None for an API key or the system)."""
    return actor.id if isinstance(actor, StaffUser) else None


def audit(actor, action: str, customer: Customer, **changes) -> AuditEvent:
    """An audit event by a staff user, an API key (named by its label) or the system (None)."""
    if isinstance(actor, ApiKey):
        return record(None, action, customer, actor_label=actor.label, **changes)
    return record(actor, action, customer, **changes)


def require_manager(actor, what: str) -> None:
    """Refuse a receptionist (the screens check roles too; this keeps every caller honest)."""
    if isinstance(actor, StaffUser) and not actor.has_role("manager"):
        raise Invalid(None, f"Only a manager can {what}.")


def locked_customer(customer: Customer, field: str | None, *, anonymized_ok: bool = False) -> Customer:
    """The customer's row locked until commit and as committed (balances current), refused when it
    was removed, merged away or (unless `anonymized_ok`) anonymized, with the message on `field`."""
    locked = lock_customer(customer.id)
    if locked is None:
        raise Invalid(field, "This customer was removed from the book meanwhile.")
    if locked.merged_into_id is not None:
        raise Invalid(field, "This customer was merged into another record; use the survivor's profile.")
    if locked.anonymized_at is not None and not anonymized_ok:
        raise Invalid(field, "This customer was anonymized: no sales, payments or redemptions any more.")
    return locked


def clean_reason(reason: str | None) -> str:
    """A required reason, trimmed, within REASON_MAX."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason", "Say why, for whoever reads the history later.")
    if len(reason) > REASON_MAX:
        raise Invalid("reason", f"Keep the reason under {REASON_MAX} characters.")
    return reason


def check_fits(value: int, field: str, what: str) -> None:
    """Refuse a change that would take a stored sum past what its 32-bit column holds."""
    if not -INT32_MAX <= value <= INT32_MAX:
        raise Invalid(field, f"That would take {what} past what can be stored; check the amount.")


def move_balances(customer: Customer, **deltas: int) -> None:
    """Add `deltas` to the customer's stored balances in one UPDATE (as booking counters move: not
    through the ORM, so an open edit form of the customer does not go stale), then let the loaded
    row read them again."""
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    db.session.execute(
        update(Customer)
        .where(Customer.id == customer.id)
        .values(updated_at=Customer.updated_at, **{n: getattr(Customer, n) + d for n, d in deltas.items()})
        .execution_options(synchronize_session=False)
    )
    db.session.expire(customer, list(deltas) + ["updated_at"])
