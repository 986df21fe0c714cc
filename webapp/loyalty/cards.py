"""Customers' stamp cards: enrol, stamp, redeem the reward — append-only stamp rows under the customer's lock.

A card's `stamps` is the sum of its CardStamp rows, each of which records the stamps after it. Every
change locks the card's customer first (`webapp.models.locks.lock_customer`) and re-reads the card, so
two clicks at two tills never stamp or redeem twice on stale numbers.
"""

from flask import url_for
from sqlalchemy import exc, select

from webapp.audit import record
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty.codes import new_code, normalize_code
from webapp.loyalty.programs import card_title, program_for
from webapp.models import CardProgram, CardStamp, Customer, CustomerCard, StaffUser
from webapp.models.locks import lock_customer, savepoint

MAX_STAMPS_AT_ONCE = 100
CODE_ATTEMPTS = 8  # 32^8 × 0.77 codes: a second collision in a row means something else is wrong


def _staff(actor) -> StaffUser | None:
    """The staff member acting (None for an API key, which `audit.record` names itself)."""
    return actor if isinstance(actor, StaffUser) else None


def _staff_id(actor) -> int | None:
    staff = _staff(actor)
    return staff.id if staff is not None else None


def _locked_owner(card: CustomerCard) -> Customer:
    """Lock the card's customer and re-read the card as committed (following a merge that moved it)."""
    while True:
        customer = lock_customer(card.customer_id)
        db.session.refresh(card)
        if customer is not None and customer.id == card.customer_id:
            return customer
        if customer is None:
            raise Invalid("card", "This card's customer no longer exists.")


def _check_open(customer: Customer, field: str) -> None:
    """Refuse cards on a record that is no longer a person: anonymized or merged away."""
    if customer.anonymized_at is not None:
        raise Invalid(field, "This customer was anonymized: their card cannot change.")
    if customer.merged_into_id is not None:
        raise Invalid(field, "This customer was merged into another record: use that one.")


def _append(card: CustomerCard, kind: str, stamps: int, actor, booking=None) -> CardStamp:
    """One stamp row and the card's running total moved with it."""
    card.stamps = card.stamps + stamps
    row = CardStamp(
        business_id=card.business_id,
        card_id=card.id,
        customer_id=card.customer_id,
        kind=kind,
        stamps=stamps,
        stamps_after=card.stamps,
        booking_id=booking.id if booking is not None else None,
        created_by_id=_staff_id(actor),
    )
    db.session.add(row)
    return row


def _insert_with_new_code(card: CustomerCard) -> None:
    """Insert the card under a fresh code, drawing again when the business already has that code."""
    for _ in range(CODE_ATTEMPTS):
        card.code = new_code()
        try:
            with savepoint():
                db.session.add(card)
                db.session.flush()
            return
        except exc.IntegrityError:
            continue  # the savepoint rolled back alone; the transaction goes on
    raise RuntimeError("Could not draw an unused card code")


def enrol(customer: Customer, program: CardProgram, *, actor) -> CustomerCard:
    """Give the customer a card of an active program, its welcome stamps already on it. Caller commits."""
    if program.business_id != customer.business_id:
        raise Invalid("program_id", "Choose one of this business's cards.")
    if not program.active:
        raise Invalid("program_id", f"The {card_title(program)} is no longer open to new customers.")
    customer = lock_customer(customer.id)
    if customer is None:
        raise Invalid("program_id", "This customer no longer exists.")
    _check_open(customer, "program_id")
    has_one = db.session.scalar(
        select(CustomerCard.id).where(
            CustomerCard.business_id == customer.business_id,
            CustomerCard.customer_id == customer.id,
            CustomerCard.program_id == program.id,
        )
    )
    if has_one:
        raise Invalid("program_id", f"{customer.display_name} already has a {card_title(program)}.")
    card = CustomerCard(
        business_id=customer.business_id,
        customer_id=customer.id,
        program_id=program.id,
        program=program,
        stamps=0,
        rewards_redeemed=0,
        created_by_id=_staff_id(actor),
    )
    _insert_with_new_code(card)
    if program.welcome_stamps:
        _append(card, "welcome", program.welcome_stamps, actor)
    record(
        _staff(actor),
        "card.enrolled",
        customer,
        card_id=card.id,
        program=program.name,
        code=card.code,
        welcome_stamps=program.welcome_stamps,
    )
    db.session.flush()
    return card


def enrol_in(customer: Customer, program_id, *, actor) -> CustomerCard:
    """`enrol` by the program's id as a form or the API sends it (Invalid on "program_id" when it is not
    one of the business's programs). Caller commits."""
    program = program_for(customer.business_id, program_id)
    if program is None:
        raise Invalid("program_id", "Choose one of this business's stamp cards.")
    return enrol(customer, program, actor=actor)


def _count(value) -> int:
    """A stamp count of 1..100, or Invalid on "count"."""
    message = f"Add between 1 and {MAX_STAMPS_AT_ONCE} stamps at a time."
    if isinstance(value, bool):
        raise Invalid("count", message)
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise Invalid("count", message) from None
    if count != value and not isinstance(value, str):  # 1.5 is not a count
        raise Invalid("count", message)
    if not 1 <= count <= MAX_STAMPS_AT_ONCE:
        raise Invalid("count", message)
    return count


def add_stamps(card: CustomerCard, *, count: int = 1, actor, booking=None) -> CustomerCard:
    """Stamp the card `count` times (1..100), from a booking when given. Caller commits."""
    count = _count(count)
    customer = _locked_owner(card)
    _check_open(customer, "count")
    if not card.program.active:
        raise Invalid("count", f"The {card_title(card.program)} is retired: it takes no new stamps.")
    _append(card, "stamp", count, actor, booking)
    record(
        _staff(actor),
        "card.stamped",
        customer,
        card_id=card.id,
        program=card.program.name,
        count=count,
        stamps_after=card.stamps,
        **({"booking_id": str(booking.id)} if booking is not None else {}),
    )
    db.session.flush()
    return card


def redeem_reward(card: CustomerCard, *, actor) -> CustomerCard:
    """Spend one full card's worth of stamps on the reward; extra stamps stay on the card. Caller commits."""
    customer = _locked_owner(card)
    _check_open(customer, "card")
    needed = card.program.stamps_required
    if card.stamps < needed:
        raise Invalid("card", f"The card has {card.stamps} of {needed} stamps: the reward is not ready yet.")
    _append(card, "redeem", -needed, actor)
    card.rewards_redeemed += 1
    record(
        _staff(actor),
        "card.reward_redeemed",
        customer,
        card_id=card.id,
        program=card.program.name,
        reward=card.program.reward,
        stamps_after=card.stamps,
    )
    db.session.flush()
    return card


def cards_of(customer: Customer) -> list[CustomerCard]:
    """The customer's cards with their programs (one query), oldest first."""
    return list(
        db.session.scalars(
            select(CustomerCard)
            .where(CustomerCard.business_id == customer.business_id, CustomerCard.customer_id == customer.id)
            .order_by(CustomerCard.id)
        )
    )


def card_for(business_id: int, card_id) -> CustomerCard | None:
    """One card of the business by id, or None (another business's card included)."""
    try:
        card_id = int(card_id)
    except (TypeError, ValueError):
        return None
    if not 0 < card_id < 2**63:
        return None
    return db.session.scalar(
        select(CustomerCard).where(CustomerCard.business_id == business_id, CustomerCard.id == card_id)
    )


def find_by_code(business_id: int, text: str) -> CustomerCard | None:
    """The business's card with this code as typed or scanned; None when the check character is wrong,
    the shape is not a code's, or no card of this business has it (another business's code included)."""
    code = normalize_code(text)
    if code is None:
        return None
    return db.session.scalar(
        select(CustomerCard).where(CustomerCard.business_id == business_id, CustomerCard.code == code)
    )


def rewards_available(card: CustomerCard) -> int:
    """How many rewards the stamps on the card pay for now."""
    return card.stamps // card.program.stamps_required


def card_url(card: CustomerCard) -> str:
    """The absolute URL a scanner opens for this card (its QR code encodes it)."""
    return url_for("loyalty.scan", code=card.code, _external=True)
