"""`GET`/`POST /customers/{id}/cards`, `POST …/cards/{card_id}/stamps` and `POST …/cards/{card_id}/redeem`:
a customer's stamp cards, by webapp/loyalty/cards (every rule stays there)."""

from dataclasses import dataclass

from flask import g

from webapp.api import money_schemas as ms
from webapp.api.conventions import answer
from webapp.api.idempotency import idempotent
from webapp.api.money import money_actor, page_of
from webapp.api.registry import operation
from webapp.edge import customer_or_404
from webapp.errors import Invalid, NotFound
from webapp.extensions import db
from webapp.loyalty import cards as services
from webapp.loyalty.mail import send_card_link
from webapp.loyalty.programs import program_for
from webapp.models import CardProgram, Customer, CustomerCard


@dataclass(frozen=True)
class ProgramRow:
    """What a card's representation reads of its program, from a row."""

    name: str
    stamps_required: int


@dataclass(frozen=True)
class CardRow:
    """A card read as a plain row (a customer list page's cards), shaped as a CustomerCard for the services'
    `rewards_available` and `card_url`."""

    id: int
    program_id: int
    code: str
    stamps: int
    rewards_redeemed: int
    program: ProgramRow


def card_fields(card: CustomerCard | CardRow) -> ms.Card:
    """A card (a record or a CardRow) as the API shows it."""
    return ms.Card(
        id=card.id,
        program_id=card.program_id,
        program=card.program.name,
        code=card.code,
        stamps=card.stamps,
        stamps_needed=card.program.stamps_required,
        rewards_available=services.rewards_available(card),
        rewards_redeemed=card.rewards_redeemed,
        url=services.card_url(card),
    )


def customer_cards(customer: Customer) -> list[dict]:
    """The customer's cards as the customer representation carries them (oldest first)."""
    return [card_fields(card).model_dump(mode="json") for card in services.cards_of(customer)]


def card_of(customer: Customer, card_id: int) -> CustomerCard:
    """The customer's card with this id, or 404 (another customer's or business's card too)."""
    card = services.card_for(g.business.id, card_id)
    if card is None or card.customer_id != customer.id:
        raise NotFound("No such card on this customer.")
    return card


def program_to_enrol(card_id: int | None, send_link: bool) -> CardProgram | None:
    """The program a new customer's `card_id` names (None when not given), checked before the customer is
    made; 422 on `card_id` when the business has no such program, on `send_card_links` without one."""
    if card_id is None:
        if send_link:
            raise Invalid("send_card_links", "Give card_id too: the link sent is the new card's.")
        return None
    program = program_for(g.business.id, card_id)
    if program is None:
        raise Invalid("card_id", "No such card program here: use one of the business's programs.")
    return program


def enrol_new_customer(customer: Customer, program: CardProgram, *, send_link: bool) -> CustomerCard:
    """POST /customers' `card_id` and `send_card_links`: enrol the new customer (the loyalty service's
    rules, its messages on `card_id`) and email the card's link when asked."""
    actor = money_actor()
    try:
        card = services.enrol(customer, program, actor=actor)
        if send_link:
            send_card_link(card, actor=actor)
    except Invalid as e:
        names = {"program_id": "card_id", "email": "send_card_links"}
        raise Invalid({names.get(f, f): m for f, m in e.problems.items()}) from None
    db.session.flush()
    return card


@operation(
    "GET",
    "/customers/<uuid:customer_id>/cards",
    summary="A customer's stamp cards",
    tag="cards",
    query=ms.PageQuery,
    response=ms.CardList,
    errors=(404, 422),
)
def list_cards(customer_id, query: ms.PageQuery):
    """Every card of the customer, oldest first, with its stamps, the rewards ready and its QR page's URL."""
    customer = customer_or_404(customer_id)
    cards = services.cards_of(customer)
    shown, pagination = page_of(cards, query.page, query.limit)
    return answer(ms.CardList(data=[card_fields(c) for c in shown], pagination=pagination))


@operation(
    "POST",
    "/customers/<uuid:customer_id>/cards",
    summary="Enrol a customer in a stamp-card program",
    access="desk",
    tag="cards",
    body=ms.Enrol,
    response=ms.Card,
    status=201,
    errors=(404, 415, 422),
)
@idempotent
def enrol_card(customer_id, body: ms.Enrol):
    """A new card of an active program of the business, with the program's welcome stamps already on it.
    A program the business does not have, an inactive one, or one the customer already has: 422 on
    `program_id`."""
    customer = customer_or_404(customer_id)
    program = program_for(g.business.id, body.program_id)
    if program is None:
        raise Invalid("program_id", "No such card program here: use one of the business's programs.")
    card = services.enrol(customer, program, actor=money_actor())
    db.session.flush()
    return answer(card_fields(card), 201)


CARD_ACTION = dict(access="desk", tag="cards", response=ms.Card, errors=(404, 415, 422))


@operation(
    "POST",
    "/customers/<uuid:customer_id>/cards/<int:card_id>/stamps",
    summary="Add stamps to a card",
    body=ms.Stamps,
    **CARD_ACTION,
)
@idempotent
def stamp_card(customer_id, card_id, body: ms.Stamps):
    """`{"count": N}` stamps (1 when absent; at most 100 at a time); answers the card. Another
    customer's or business's card: 404."""
    card = card_of(customer_or_404(customer_id), card_id)
    card = services.add_stamps(card, count=body.count, actor=money_actor())
    db.session.flush()
    return answer(card_fields(card))


@operation(
    "POST",
    "/customers/<uuid:customer_id>/cards/<int:card_id>/redeem",
    summary="Redeem a full card's reward",
    **CARD_ACTION,
)
@idempotent
def redeem_card(customer_id, card_id):
    """Spend one full card's worth of stamps on the program's reward; stamps beyond it stay on the card.
    A card that is not full yet: 422 on `card`."""
    card = card_of(customer_or_404(customer_id), card_id)
    card = services.redeem_reward(card, actor=money_actor())
    db.session.flush()
    return answer(card_fields(card))
