"""Customer rules, tested at the service level."""

from datetime import date, timedelta

import pytest

from webapp.customers import services
from webapp.customers.services import RuleBroken, StaleEdit
from webapp.extensions import db
from webapp.models import AuditEvent, Customer


def data(**over):
    base = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "07911 123456"}
    base.update(over)
    return base


def test_create_normalizes_and_audits(business, make_user):
    actor = make_user("receptionist")
    c = services.create_customer(business, actor, data(email=" Ada@Example.COM "))
    db.session.commit()
    assert c.phone == "+447911123456"
    assert c.email == "Ada@Example.COM" and c.email_normalized == "ada@example.com"
    ev = db.session.scalars(db.select(AuditEvent)).one()
    assert ev.action == "customer.created" and ev.actor_id == actor.id
