"""The retention rule: who "no visit and no booking for N years" selects, the owner's setting page with
its preview, and `flask apply-retention` (a dry run unless --apply, then exactly the preview)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import HX
from webapp.errors import Invalid
from webapp.exports import retention, services
from webapp.extensions import db
from webapp.models import AuditEvent, Business, Customer

NOW = datetime.now(UTC).replace(microsecond=0)
YEAR = timedelta(days=366)


def ago(years: float) -> datetime:
    return NOW - timedelta(days=int(365.25 * years))


@pytest.fixture
def people(business, make_customer, make_booking):
    """Customers on each side of a 3-year rule, by what they did (True: the rule selects them)."""
    c = {}
    c["old, nothing"] = (make_customer(created_at=ago(5)), True)
    c["new, nothing"] = (make_customer(created_at=ago(1)), False)
    c["old visit"] = (make_customer(created_at=ago(6), last_visit_at=ago(4)), True)
    c["recent visit"] = (make_customer(created_at=ago(6), last_visit_at=ago(1)), False)
    booked_old = make_customer(created_at=ago(6))
    make_booking(booked_old, starts_at=ago(4), status="completed")
    c["old booking"] = (booked_old, True)
    cancelled = make_customer(created_at=ago(6))
    make_booking(cancelled, starts_at=ago(2), status="cancelled", cancelled_by="customer")
    c["recent cancelled booking"] = (cancelled, False)
    future = make_customer(created_at=ago(6), last_visit_at=ago(5))
    make_booking(future, days=30)
    c["future booking"] = (future, False)
    # Imported last week with an old "customer since" and an old booking: the booking decides.
    imported = make_customer(created_at=ago(1))
    make_booking(imported, starts_at=ago(4), status="completed")
    c["new record, old booking"] = (imported, True)
    c["anonymized"] = (make_customer(created_at=ago(9), anonymized_at=ago(1), first_name=""), False)
    survivor = make_customer(created_at=ago(1))
    c["merged away"] = (make_customer(created_at=ago(9), merged_into_id=survivor.id, merged_at=ago(1)), False)
    c["survivor"] = (survivor, False)
    return c


def chosen(people) -> set:
    return {c.id for c, selected in people.values() if selected}


def test_the_rule_selects_exactly_the_inactive(business, people):
    before = retention.cutoff(3)
    assert set(retention.inactive_ids(business.id, before)) == chosen(people)
    assert retention.count_inactive(business.id, before) == len(chosen(people))


def test_the_preview_lists_them_with_their_last_activity(business, people):
    p = services.preview_retention(business, 3)
    assert p.count == len(chosen(people)) and {c.id for c in p.first} == chosen(people)
    row = next(c for c in p.first if c.id == people["old booking"][0].id)
    assert row.last_booking_at is not None and row.last_activity == row.last_booking_at


def test_the_cutoff_counts_calendar_years():
    assert retention.cutoff(2, datetime(2024, 2, 29, 12, tzinfo=UTC)) == datetime(2022, 2, 28, 12, tzinfo=UTC)
    assert retention.cutoff(1, datetime(2026, 12, 3, tzinfo=UTC)) == datetime(2025, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize("years", [0, 51, -1, "3", 2.5])
def test_years_out_of_range_are_refused(business, years):
    with pytest.raises(Invalid):
        services.set_retention(business, years, None)
    with pytest.raises(Invalid):
        services.preview_retention(business, years)


def test_setting_is_audited_and_off_by_default(business, make_user):
    owner = make_user("owner")
    assert business.retention_years is None
    services.set_retention(business, 7, owner)
    services.set_retention(business, None, owner)
    db.session.commit()
    events = db.session.scalars(
        select(AuditEvent.changes).where(AuditEvent.action == "business.retention_changed")
    )
    assert [e["years"] for e in events] == [[None, 7], [7, None]]


# --- the page ---------------------------------------------------------------------------------------


def test_owner_sees_the_rule_and_the_preview(login_as, people):
    page = login_as("owner").get("/settings/retention").data.decode()
    assert "Data retention" in page and "the start of their latest booking" in page
    assert (
        f"<strong>{len(chosen(people))}</strong> customers would be anonymized if you turned the rule on"
        in page
    )
    assert 'aria-current="page"' in page and "/settings/retention" in page


@pytest.mark.parametrize("role", ["receptionist", "manager"])
def test_only_the_owner(login_as, role):
    assert login_as(role).get("/settings/retention").status_code == 403
    assert login_as(role).post("/settings/retention", data={"enabled": "y", "years": "3"}).status_code == 403


def test_saving_turns_it_on_and_off(login_as, business):
    owner = login_as("owner")
    r = owner.post("/settings/retention", data={"enabled": "y", "years": "4"})
    assert r.status_code == 303 and r.headers["Location"] == "/settings/retention"
    assert db.session.get(Business, business.id).retention_years == 4
    assert owner.post("/settings/retention", data={"years": "4"}).status_code == 303
    assert db.session.get(Business, business.id).retention_years is None


@pytest.mark.parametrize(
    "form", [{"enabled": "y", "years": "0"}, {"enabled": "y", "years": "51"}, {"enabled": "y", "years": ""},
             {"enabled": "y", "years": "abc"}, {"enabled": "y", "years": "99999999999999999999"}]
)  # fmt: skip
def test_bad_years_are_a_message_and_nothing_saved(login_as, business, form):
    r = login_as("owner").post("/settings/retention", data=form)
    assert r.status_code == 422
    assert b'id="years-error"' in r.data
    assert db.session.get(Business, business.id).retention_years is None


def test_a_preview_for_other_years_and_its_htmx_block(login_as, people):
    owner = login_as("owner")
    page = owner.get("/settings/retention?years=8").data.decode()
    assert "No customer would be anonymized" in page and 'value="8"' in page
    block = owner.get("/settings/retention?years=3", headers=HX).data.decode()
    assert "<h3>Who the rule would anonymize now</h3>" in block and '<form method="post"' not in block
    assert "Choose a number of years" in owner.get("/settings/retention?years=0").data.decode()


# --- the command ------------------------------------------------------------------------------------


def snapshot():
    return (
        db.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.anonymized_at.is_not(None))
        ),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def test_a_dry_run_writes_nothing(app, business, people):
    business.retention_years = 3
    db.session.commit()
    before = snapshot()
    r = app.test_cli_runner().invoke(args=["apply-retention"])
    assert r.exit_code == 0, r.output
    assert f"Test Salon: {len(chosen(people))} customers with no visit and no booking since" in r.output
    assert "Run with --apply" in r.output
    db.session.expire_all()
    assert snapshot() == before


def test_apply_anonymizes_exactly_the_preview(app, business, people, monkeypatch):
    monkeypatch.setattr(services, "RETENTION_BATCH", 2)  # several batches
    business.retention_years = 3
    db.session.commit()
    expected = {c.id for c in services.preview_retention(business, 3).first}
    r = app.test_cli_runner().invoke(args=["apply-retention", "--business", "test salon", "--apply"])
    assert r.exit_code == 0, r.output
    assert f"{len(expected)} customers anonymized" in r.output
    db.session.expire_all()
    wiped = set(
        db.session.scalars(select(Customer.id).where(Customer.anonymized_at >= NOW - timedelta(minutes=5)))
    )
    assert wiped == expected == chosen(people)
    for c in db.session.scalars(select(Customer).where(Customer.id.in_(expected))):
        assert c.first_name == "" and c.email is None
    run = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customers.retention_applied"))
    assert run.changes["anonymized"] == len(expected) and run.changes["years"] == 3
    per_customer = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "customer.anonymized")
    )
    assert per_customer == len(expected)
    r = app.test_cli_runner().invoke(args=["apply-retention", "--apply"])
    assert "0 customers anonymized" in r.output  # nothing left to do


def test_apply_takes_the_merged_away_records_with_their_survivor(app, business, make_customer):
    survivor = make_customer(created_at=ago(5))
    gone = make_customer(created_at=ago(6), merged_into_id=survivor.id, merged_at=ago(5))
    business.retention_years = 3
    db.session.commit()
    r = app.test_cli_runner().invoke(args=["apply-retention", "--apply"])
    assert r.exit_code == 0 and "1 customer anonymized" in r.output
    db.session.expire_all()
    assert db.session.get(Customer, gone.id).anonymized_at is not None


def test_off_is_said_and_unknown_business_refused(app, business):
    runner = app.test_cli_runner()
    assert "Test Salon: retention is off." in runner.invoke(args=["apply-retention", "--apply"]).output
    r = runner.invoke(args=["apply-retention", "--business", "Nobody"])
    assert r.exit_code != 0 and "No business called" in r.output
