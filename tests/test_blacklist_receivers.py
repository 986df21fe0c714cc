"""Blacklist listens to customers' signals: former contacts kept on an edit, forgotten on anonymizing."""

import pytest
from sqlalchemy import select

from webapp import signals
from webapp.extensions import db
from webapp.models import CustomerContactHistory


def former(customer) -> list[tuple]:
    rows = db.session.scalars(
        select(CustomerContactHistory).where(CustomerContactHistory.customer_id == customer.id)
    )
    return sorted(((h.email_normalized, h.phone, h.why) for h in rows), key=repr)


def test_contact_changed_remembers_the_former_details(make_customer):
    c = make_customer()
    signals.contact_changed.send(c, email_before="old@example.com", phone_before=None)
    signals.contact_changed.send(c, email_before=None, phone_before="+447911123456")
    signals.contact_changed.send(c, email_before=None, phone_before=None)  # nothing former: nothing kept
    db.session.commit()
    assert former(c) == [("old@example.com", None, "edited"), (None, "+447911123456", "edited")]


def test_customer_anonymized_forgets_them(make_customer):
    c, other = make_customer(), make_customer()
    for who in (c, other):
        signals.contact_changed.send(who, email_before=f"{who.id.hex}@example.com", phone_before=None)
    signals.customer_anonymized.send(c)
    db.session.commit()
    assert former(c) == [] and len(former(other)) == 1


def test_no_hidden_listener_writes_on_flush(make_customer):
    """Only the customers' services announce an edit: a raw assignment (e.g. a merge) records nothing."""
    c = make_customer(email="was@example.com")
    c.email = c.email_normalized = "now@example.com"
    db.session.commit()
    assert former(c) == []


@pytest.mark.parametrize("module", ["webapp.blacklist", "webapp.merge", "webapp.bookings"])
def test_feature_front_holds_only_its_blueprint(module):
    import importlib
    import inspect

    front = importlib.import_module(module)
    own = [n for n, v in vars(front).items() if inspect.isfunction(v) and v.__module__ == module]
    assert own == [], f"{module}/__init__.py defines {own}"


def test_no_template_globals_that_query(app):
    gone = {"staff_display_name", "merge_undo_problem", "profile_url", "merge_count_label"}
    assert gone.isdisjoint(app.jinja_env.globals)
