"""Stamp-card screens: the programs (owner), a customer's cards on the profile, the printable card, the
scanned code's landing page and the outbox of card-link emails (owner).

Every card action is a plain POST that flashes and redirects to the profile; sent by htmx it answers
the card panel instead (422 with the message when a rule refused it), so the page works with or
without JavaScript.
"""

from collections.abc import Callable

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import edge
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.htmx import VARY, page_or_block, wants_fragment
from webapp.loyalty import bp, cards, mail, programs
from webapp.loyalty.codes import normalize_code
from webapp.loyalty.forms import ActionForm, EnrolForm, ProgramForm, StampForm
from webapp.loyalty.qr import qr_svg
from webapp.loyalty.receivers import show_cards
from webapp.models import CustomerCard
from webapp.models.customer import LEAN
from webapp.security import role_required

OUTBOX_PER_PAGE = 50

bp.add_app_template_global(programs.card_title, "card_title")  # "Blow-dry card", "Coffee card"


@bp.app_template_global()
def card_qr(card: CustomerCard, scale: int = 4):
    """The card's QR code (its /cards/<code> link) as inline SVG."""
    return qr_svg(cards.card_url(card), label=f"QR code of card {card.code}", scale=scale)


@bp.app_template_global()
def card_rewards(card: CustomerCard) -> int:
    """Rewards the card's stamps pay for now."""
    return cards.rewards_available(card)


# --- programs (owner) ------------------------------------------------------------------------------


@bp.route("/settings/cards", methods=["GET", "POST"])
@role_required("owner")
def programs_index():
    """The business's stamp-card programs, and the form that adds one."""
    form = ProgramForm()
    if form.validate_on_submit():
        try:
            program = programs.create_program(g.business, actor=current_user, **form.values())
        except Invalid as e:
            db.session.rollback()
            edge.show_errors(form, e)
        else:
            db.session.commit()
            flash(f"The {programs.card_title(program)} was added.", "success")
            return redirect(url_for("loyalty.programs_index"), 303)
    rows = programs.programs_of(g.business)
    return render_template("loyalty/programs.html", form=form, programs=rows), 422 if form.errors else 200


@bp.route("/settings/cards/<int:program_id>", methods=["GET", "POST"])
@role_required("owner")
def program_edit(program_id: int):
    """Change a program (cards already given keep their stamps)."""
    program = programs.program_for(g.business.id, program_id) or abort(404)
    form = ProgramForm(obj=program)
    if form.validate_on_submit():
        try:
            programs.update_program(program, actor=current_user, **form.values())
        except Invalid as e:
            db.session.rollback()
            edge.show_errors(form, e)
        else:
            db.session.commit()
            flash(f"The {programs.card_title(program)} was saved.", "success")
            return redirect(url_for("loyalty.programs_index"), 303)
    return render_template("loyalty/program.html", form=form, program=program), 422 if form.errors else 200


# --- a customer's cards ----------------------------------------------------------------------------


class KeptButFailed(Exception):
    """An action that recorded something worth keeping (a failed email in the outbox) but did not succeed."""


def customer_and_card(customer_id, card_id):
    """The customer of this business and one of their cards, or 404 (another's card included)."""
    customer = edge.customer_or_404(customer_id, options=LEAN)
    card = cards.card_for(g.business.id, card_id) if card_id is not None else None
    if card_id is not None and (card is None or card.customer_id != customer.id):
        abort(404)
    return customer, card


def panel_answer(customer, form, act: Callable[[], str]):
    """Run a card action: commit and say what happened, or roll back and say why not. htmx gets the
    card panel back (422 on a refusal); a plain form post a flash and a 303 to the profile."""
    error = notice = None
    if not form.validate_on_submit():
        error = next(iter(form.errors.values()))[0] if form.errors else "Send this form from its page."
    else:
        try:
            notice = act()
        except Invalid as e:
            db.session.rollback()
            error = e.message
        except KeptButFailed as e:  # what it recorded stays (the outbox keeps the failed message)
            db.session.commit()
            error = str(e)
        else:
            db.session.commit()
    if wants_fragment():
        ctx = show_cards(customer)
        html = render_template(
            "loyalty/_profile_cards.html", customer=customer, card_notice=notice, card_error=error, **ctx
        )
        return html, 422 if error else 200, VARY
    flash(error or notice, "error" if error else "success")
    return redirect(edge.customer_url(customer) + "#loyalty-cards", 303)


@bp.post("/customers/<uuid:customer_id>/cards")
def enrol(customer_id):
    """Give the customer a card of an active program (welcome stamps on it at once)."""
    customer, _ = customer_and_card(customer_id, None)
    form = EnrolForm()

    def act() -> str:
        card = cards.enrol_in(customer, form.program_id.data, actor=current_user)
        program = card.program
        progress = f"{card.stamps} of {program.stamps_required}"
        return f"{customer.display_name} now has a {programs.card_title(program)} ({progress} stamps)."

    return panel_answer(customer, form, act)


@bp.post("/customers/<uuid:customer_id>/cards/<int:card_id>/stamps")
def stamp(customer_id, card_id: int):
    """Add one stamp (or `count` stamps, 1 to 100) to the card."""
    customer, card = customer_and_card(customer_id, card_id)
    form = StampForm()

    def act() -> str:
        cards.add_stamps(card, count=1 if form.count.data is None else form.count.data, actor=current_user)
        ready = " Reward ready!" if cards.rewards_available(card) else ""
        title = programs.card_title(card.program)
        return f"Stamped: {card.stamps} of {card.program.stamps_required} on the {title}.{ready}"

    return panel_answer(customer, form, act)


@bp.post("/customers/<uuid:customer_id>/cards/<int:card_id>/redeem")
def redeem(customer_id, card_id: int):
    """Redeem one reward of a full card; stamps beyond it stay on the card."""
    customer, card = customer_and_card(customer_id, card_id)

    def act() -> str:
        cards.redeem_reward(card, actor=current_user)
        left = f"{card.stamps} of {card.program.stamps_required}"
        return f"Reward redeemed: {card.program.reward}. The card now has {left} stamps."

    return panel_answer(customer, ActionForm(), act)


@bp.post("/customers/<uuid:customer_id>/cards/<int:card_id>/send")
def send_link(customer_id, card_id: int):
    """Email the customer their card's link (kept in the outbox when no mail server is set)."""
    customer, card = customer_and_card(customer_id, card_id)

    def act() -> str:
        message = mail.send_card_link(card, actor=current_user)
        if message.error:
            raise KeptButFailed(
                f"The card link could not be sent to {message.to_address}: the mail server refused it or did "
                "not answer. The message is kept in the outbox; try again later."
            )
        if message.sent_at:
            return f"Card link sent to {message.to_address}."
        return f"No mail server is set up: the card link to {message.to_address} is kept in the outbox."

    return panel_answer(customer, ActionForm(), act)


@bp.get("/customers/<uuid:customer_id>/cards/<int:card_id>/print")
def print_card(customer_id, card_id: int):
    """The card to print (card-sized, with its QR code, code and stamps)."""
    customer, card = customer_and_card(customer_id, card_id)
    return render_template("loyalty/print.html", customer=customer, card=card)


# --- a scanned code --------------------------------------------------------------------------------


@bp.get("/cards/<code>")
def scan(code: str):
    """What a scanned QR code (or a typed code) opens: the card's customer, or a clear "No card"."""
    card = cards.find_by_code(g.business.id, code)
    if card is not None:
        return redirect(url_for("customers.profile", customer_id=card.customer_id) + "#loyalty-cards", 303)
    mistyped = normalize_code(code) is None
    return render_template("loyalty/no_card.html", code=code[:40], mistyped=mistyped), 404


# --- the outbox (owner) ----------------------------------------------------------------------------


@bp.get("/settings/outbox")
@role_required("owner")
def outbox():
    """The emails the app sent or keeps (newest first)."""
    page = edge.page_number(request.args.get("page"))
    rows = mail.outbox_of(g.business.id, limit=OUTBOX_PER_PAGE + 1, offset=(page - 1) * OUTBOX_PER_PAGE)
    return page_or_block(
        "loyalty/outbox.html",
        "messages",
        messages=rows[:OUTBOX_PER_PAGE],
        page=page,
        has_next=len(rows) > OUTBOX_PER_PAGE,
    )


@bp.get("/settings/outbox/<int:message_id>")
@role_required("owner")
def outbox_message(message_id: int):
    """One email as it was (or would have been) sent."""
    message = mail.message_for(g.business.id, message_id) or abort(404)
    return render_template("loyalty/message.html", message=message)
