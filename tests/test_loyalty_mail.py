"""Card links by email, against a real SMTP server (aiosmtpd on a free local port), and the outbox."""

import socket
import threading
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty.cards import enrol
from webapp.loyalty.mail import parse_mail_url, send_card_link
from webapp.loyalty.programs import create_program
from webapp.models import AuditEvent, OutboxMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what arrives."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default))
        )
        self.arrived.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free local port; yields (inbox, port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def smtp_server_with_login():
    """A real SMTP server that wants AUTH (desk / s3cret), over a plain connection as in a test rig."""
    inbox = Inbox()
    port = free_port()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"desk" and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def card(business, make_customer, make_user):
    owner = make_user("owner")
    program = create_program(
        business,
        name="Blow-dry card",
        stamps_required=10,
        reward="Free blow-dry",
        welcome_stamps=1,
        actor=owner,
    )
    card = enrol(make_customer(first_name="Ada", email="ada@example.com"), program, actor=owner)
    db.session.commit()
    return card


@pytest.fixture
def mail_url(app):
    """Set MAIL_URL for one test."""
    before = app.config.get("MAIL_URL")

    def use(url):
        app.config["MAIL_URL"] = url

    yield use
    app.config["MAIL_URL"] = before


def test_the_card_link_arrives_through_smtp_with_the_link(app, card, smtp_server, mail_url, staff_user):
    inbox, port = smtp_server
    mail_url(f"smtp://127.0.0.1:{port}")
    with app.test_request_context(base_url="https://desk.example.com"):
        message = send_card_link(card, actor=staff_user)
    db.session.commit()
    assert inbox.arrived.wait(5)
    mail_from, to, email = inbox.messages[0]
    assert to == ["ada@example.com"] and mail_from == app.config["MAIL_FROM"]
    assert email["Subject"] == "Your Blow-dry card"
    assert f"https://desk.example.com/cards/{card.code}" in email.get_content()
    assert message.sent_at is not None and message.error == ""
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.action.like("card.link%")))
        == "card.link_sent"
    )


NO_TLS_IN_THE_TEST_RIG = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@NO_TLS_IN_THE_TEST_RIG
def test_smtp_login_from_the_url_is_used(app, card, smtp_server_with_login, mail_url, staff_user):
    inbox, port = smtp_server_with_login
    mail_url(f"smtp://desk:s3cret@127.0.0.1:{port}")
    with app.test_request_context():
        message = send_card_link(card, actor=staff_user)
    assert message.sent_at is not None, message.error
    assert inbox.arrived.wait(5)


def test_a_server_that_does_not_answer_is_recorded_not_raised(app, card, mail_url, staff_user):
    mail_url(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    with app.test_request_context():
        message = send_card_link(card, actor=staff_user)
    db.session.commit()
    assert message.sent_at is None and message.error
    assert db.session.get(OutboxMessage, message.id).error == message.error


def test_without_mail_url_the_message_only_goes_to_the_outbox(app, card, mail_url, staff_user):
    mail_url(None)
    with app.test_request_context():
        message = send_card_link(card, actor=staff_user)
    db.session.commit()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.sent_at is None and stored.error == "" and stored.to_address == "ada@example.com"
    assert stored.subject == "Your Blow-dry card" and card.code in stored.body
    assert stored.customer_id == card.customer_id


def test_a_customer_without_email_gets_a_clear_message_and_nothing_is_kept(
    app, business, make_customer, card, staff_user
):
    card.customer_id = make_customer(first_name="Bo", email=None, phone="+447400123456").id
    db.session.commit()
    with app.test_request_context(), pytest.raises(Invalid) as e:
        send_card_link(card, actor=staff_user)
    assert e.value.field == "email" and "no email address" in e.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.local:2525", ("mail.local", 2525, "", "", False, False)),
        ("smtp://mail.local", ("mail.local", 25, "", "", False, False)),
        (
            "smtp+starttls://me%40x.com:p%3Ass@smtp.x.com:587",
            ("smtp.x.com", 587, "me@x.com", "p:ss", True, False),
        ),
        ("smtps://u:p@smtp.x.com", ("smtp.x.com", 465, "u", "p", False, True)),
    ],
)
def test_parse_mail_url(url, expected):
    s = parse_mail_url(url)
    assert (s.host, s.port, s.username, s.password, s.starttls, s.tls) == expected


@pytest.mark.parametrize("url", ["http://mail.local", "smtp://", "mail.local:25"])
def test_a_bad_mail_url_is_refused(url):
    with pytest.raises(ValueError):
        parse_mail_url(url)


@pytest.fixture
def staff_user(make_user):
    return make_user("receptionist")
