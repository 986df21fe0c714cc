"""What stamp cards do when other features act: a completed booking stamps the cards whose program says
so; the profile shows the customer's cards and the programs they can join."""

from sqlalchemy import and_, select

from webapp import signals
from webapp.extensions import db
from webapp.loyalty.cards import add_stamps
from webapp.models import Booking, CardProgram, CardStamp, Customer, CustomerCard

# How the profile's history names the card events (customers/_event.html reads `loyalty_action_labels`).
ACTION_LABELS = {
    "card.enrolled": "Enrolled in a stamp card",
    "card.stamped": "Card stamped",
    "card.reward_redeemed": "Card reward redeemed",
    "card.link_sent": "Card link emailed",
    "card.link_queued": "Card link kept in the outbox",
    "card.link_failed": "Card link could not be sent",
}


@signals.booking_completed.connect
def stamp_completed_visit(booking: Booking, actor=None, **_) -> None:
    """One stamp from the visit on each of the customer's cards whose active program stamps completed
    bookings; never twice for the same booking and card, nothing for an anonymized customer."""
    customer = db.session.get(Customer, booking.customer_id)
    if customer is None or customer.anonymized_at is not None:
        return
    cards = db.session.scalars(
        select(CustomerCard)
        .join(CardProgram, CardProgram.id == CustomerCard.program_id)
        .where(
            CustomerCard.business_id == booking.business_id,
            CustomerCard.customer_id == booking.customer_id,
            CardProgram.stamp_on_complete,
            CardProgram.active,
            ~select(CardStamp.id)
            .where(CardStamp.card_id == CustomerCard.id, CardStamp.booking_id == booking.id)
            .exists(),
        )
        .order_by(CustomerCard.id)
    ).all()
    for card in cards:
        add_stamps(card, count=1, actor=actor, booking=booking)


@signals.profile_shown.connect
def show_cards(customer: Customer, **_) -> dict:
    """The profile's card panel: the customer's cards with their programs, and the active programs they
    have no card of yet (to enrol in) — one query: every program, outer-joined to this customer's cards."""
    rows = db.session.execute(
        select(CardProgram, CustomerCard)
        .outerjoin(
            CustomerCard,
            and_(
                CustomerCard.program_id == CardProgram.id,
                CustomerCard.business_id == customer.business_id,
                CustomerCard.customer_id == customer.id,
            ),
        )
        .where(CardProgram.business_id == customer.business_id)
        .order_by(CustomerCard.id.is_(None), CustomerCard.id, CardProgram.name)
    ).all()
    cards = [card for _program, card in rows if card is not None]
    joinable = [program for program, card in rows if card is None and program.active]
    return {"loyalty_cards": cards, "loyalty_programs": joinable, "loyalty_action_labels": ACTION_LABELS}
