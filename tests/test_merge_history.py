"""The merge and blacklist events read well in a profile's history, with Undo merge where it applies."""

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import select

from webapp.blacklist import services as blacklist_services
from webapp.extensions import db
from webapp.merge import history as merge_history
from webapp.merge import services, undo
from webapp.models import AuditEvent


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Max")


def render_events(app, user, customer_id):
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.customer_id == customer_id).order_by(AuditEvent.id)
    ).all()
    out = {}
    context = merge_history.profile_context(events)  # what the profile view passes its history
    with app.test_request_context():
        login_user(user)
        for event in events:
            folder = (
                "merge"
                if event.action.startswith(
                    ("customer.merge", "customer.unmerged", "customer.bookings", "customer.not_dup")
                )
                else "blacklist"
            )
            out.setdefault(event.action, []).append(
                " ".join(render_template(f"{folder}/_event_summary.html", event=event, **context).split())
            )
    return out


def test_merge_events_and_undo_button(app, manager, make_customer, make_booking):
    a = make_customer(first_name="Ann", email="ann@example.com")
    b = make_customer(first_name="Anne", email="anne@example.com")
    make_booking(b)
    event = services.merge_customers(b, a, {"email": "source"}, manager)
    db.session.commit()
    html = render_events(app, manager, a.id)
    assert (
        "Merged <strong>Anne Test</strong> into this customer. 1 booking moved." in html["customer.merged"][0]
    )
    assert "ann@example.com" in html["customer.merged"][0] and "Undo merge" in html["customer.merged"][0]
    assert (
        "Merged into <strong>Ann Test</strong>"
        in render_events(app, manager, b.id)["customer.merged_away"][0]
    )
    undo.undo_merge(event, manager)
    db.session.commit()
    html = render_events(app, manager, a.id)
    assert "Undo merge" not in html["customer.merged"][0] and "already undone" in html["customer.merged"][0]
    assert "1 record moved back" in html["customer.merge_undone"][0]
    services.transfer_bookings(b, a, manager)
    db.session.commit()
    assert (
        "1 booking transferred from <strong>Anne Test</strong>"
        in render_events(app, manager, a.id)["customer.bookings_transferred"][0]
    )


def test_receptionists_see_no_undo(app, manager, make_user, make_customer):
    a, b = make_customer(), make_customer()
    services.merge_customers(b, a, {}, manager)
    db.session.commit()
    html = render_events(app, make_user("receptionist"), a.id)["customer.merged"][0]
    assert "Undo merge" not in html and "Undo:" not in html


def test_blacklist_events(app, manager, make_customer):
    c = make_customer()
    blacklist_services.blacklist(c, manager, "Rude to staff", level="warn")
    blacklist_services.blacklist(c, manager, "Threw a chair")
    blacklist_services.mark_reviewed(c, manager, "Still applies")
    blacklist_services.unblacklist(c, manager, "Apologised")
    db.session.commit()
    html = render_events(app, manager, c.id)
    assert "Warn" in html["customer.blacklisted"][0] and "Rude to staff" in html["customer.blacklisted"][0]
    assert "Before</dt><dd>Warn: Rude to staff" in html["customer.blacklist_changed"][0]
    assert "Restriction kept: Still applies" in html["customer.blacklist_reviewed"][0]
    assert "Lifted because</dt><dd>Apologised" in html["customer.unblacklisted"][0]


def test_undo_problems_for_a_page_of_events_in_one_query(manager, make_customer, count_queries):
    a, b, c = make_customer(), make_customer(), make_customer()
    first = services.merge_customers(b, a, {}, manager)
    second = services.merge_customers(c, a, {}, manager)
    db.session.commit()
    undo.undo_merge(second, manager)
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.customer_id == a.id)).all()
    with count_queries() as q:
        problems = merge_history.undo_problems(events)
    assert q.count == 1
    assert (
        problems == {first.id: None, second.id: problems[second.id]}
        and "already undone" in problems[second.id]
    )
    assert merge_history.undo_problems([]) == {}


def test_profile_queries_stay_constant_with_many_history_events(
    login_as, manager, make_customer, make_user, count_queries
):
    """Templates query nothing per event: 1 or 30 merge and blacklist events cost the same queries."""
    client = login_as("manager")
    survivor = make_customer(first_name="Sam", email="sam@example.com")

    def merge_one(i: int) -> None:
        duplicate = make_customer(first_name=f"Dup{i}", email=f"dup{i}@example.com")
        services.merge_customers(duplicate, survivor, {}, manager)
        db.session.commit()

    def profile_queries() -> int:
        client.get(f"/customers/{survivor.id}")  # warm: the same caches for both measurements
        db.session.expire_all()
        with count_queries() as q:
            r = client.get(f"/customers/{survivor.id}")
        assert r.status_code == 200
        return q.count, r.get_data(as_text=True)

    merge_one(0)
    blacklist_services.blacklist(survivor, manager, "Rude", level="warn")
    db.session.commit()
    few, html = profile_queries()
    assert html.count("Undo merge") == 1 and "by Max" in html
    for i in range(1, 15):
        merge_one(i)
        reviewer = make_user("manager", name=f"Reviewer {i}")
        blacklist_services.blacklist(survivor, reviewer, f"Rude, {i} times")
        blacklist_services.mark_reviewed(survivor, reviewer, "Still applies")
        db.session.commit()
    many, html = profile_queries()
    assert html.count("Undo merge") > 5 and "Restriction reviewed" in html
    assert many == few
