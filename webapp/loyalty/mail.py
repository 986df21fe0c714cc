"""Card links by email: through the SMTP server MAIL_URL names, and always recorded in the outbox.

MAIL_URL is `smtp://host:port` (plain), `smtp+starttls://user:password@host:port` (upgraded with
STARTTLS) or `smtps://user:password@host:port` (TLS from the start). Without it (development, the
default) a message is only kept in the outbox, which the owner reads at /settings/outbox.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select

from webapp.audit import record
from webapp.database import utcnow
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty.cards import card_url
from webapp.loyalty.programs import card_title
from webapp.models import Business, Customer, CustomerCard, OutboxMessage, StaffUser

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
SMTP_TIMEOUT = 10  # seconds: a dead server must not hold the desk's request (and its transaction) long


@dataclass(frozen=True)
class MailServer:
    """Where and how to hand messages over, as MAIL_URL says."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    starttls: bool = False
    tls: bool = False


def parse_mail_url(url: str) -> MailServer:
    """The server a MAIL_URL names; ValueError when it is not one of the forms above."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            "MAIL_URL must look like smtp://host:port or smtp+starttls://user:password@host:port"
        )
    return MailServer(
        host=parts.hostname,
        port=parts.port or SCHEMES[parts.scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=parts.scheme == "smtp+starttls",
        tls=parts.scheme == "smtps",
    )


def deliver(server: MailServer, message: EmailMessage) -> None:
    """Hand one message to the SMTP server (raises smtplib.SMTPException or OSError when it fails)."""
    context = ssl.create_default_context()
    if server.tls:
        connection = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT, context=context)
    else:
        connection = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT)
    with connection as smtp:
        if server.starttls:
            smtp.starttls(context=context)
        if server.username:
            smtp.login(server.username, server.password)
        smtp.send_message(message)


def card_message(card: CustomerCard, customer: Customer, business: Business) -> tuple[str, str]:
    """The subject and plain-text body of a card's email."""
    program = card.program
    subject = f"Your {card_title(program)}"
    greeting = f"Hello {customer.first_name}," if customer.first_name else "Hello,"
    body = (
        f"{greeting}\n\n"
        f"Here is your {card_title(program)} from {business.name}: {card_url(card)}\n\n"
        f"Card code: {card.code}\n"
        f"Stamps: {card.stamps} of {program.stamps_required} (reward: {program.reward})\n\n"
        f"Show the link or the code at the desk to collect your stamps.\n"
    )
    return subject, body


def _email(outbox: OutboxMessage, sender: str, business: Business) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((business.name, sender))
    message["To"] = outbox.to_address
    message["Subject"] = outbox.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(outbox.body)
    return message


def send_card_link(card: CustomerCard, *, actor) -> OutboxMessage:
    """Email the customer their card's link: sent through MAIL_URL when set (`sent_at`), else only kept in
    the outbox; an SMTP failure is recorded on the message (`error`), not raised. Caller commits."""
    customer = db.session.get(Customer, card.customer_id)
    if customer.anonymized_at is not None or not customer.email:
        name = customer.display_name
        raise Invalid("email", f"{name} has no email address: add one to send the card link.")
    business = db.session.get(Business, card.business_id)
    subject, body = card_message(card, customer, business)
    outbox = OutboxMessage(
        business_id=card.business_id,
        customer_id=customer.id,
        to_address=customer.email,
        subject=subject,
        body=body,
        error="",
    )
    db.session.add(outbox)
    url = current_app.config.get("MAIL_URL")
    if url:
        try:
            deliver(parse_mail_url(url), _email(outbox, current_app.config["MAIL_FROM"], business))
        except (smtplib.SMTPException, OSError, ValueError) as e:
            outbox.error = f"{type(e).__name__}: {e}"[:2000]
        else:
            outbox.sent_at = utcnow()
    db.session.flush()
    record(
        actor if isinstance(actor, StaffUser) else None,
        "card.link_sent" if outbox.sent_at else ("card.link_failed" if outbox.error else "card.link_queued"),
        customer,
        card_id=card.id,
        message_id=outbox.id,
        to=outbox.to_address,
    )
    return outbox


def outbox_of(business_id: int, *, limit: int = 50, offset: int = 0) -> list[OutboxMessage]:
    """The business's messages, newest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.business_id == business_id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def message_for(business_id: int, message_id) -> OutboxMessage | None:
    """One message of the business, or None (another business's included)."""
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        return None
    if not 0 < message_id < 2**63:
        return None
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.business_id == business_id, OutboxMessage.id == message_id)
    )
