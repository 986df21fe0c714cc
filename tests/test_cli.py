"""The management commands."""

from sqlalchemy import func, select

from webapp.bookings.counters import recount
from webapp.extensions import db
from webapp.models import Booking, Business, Customer, CustomerCard, Sale, StaffUser
from webapp.money.recount import recount_money, wrong_balances


def test_create_business_and_user(app):
    runner = app.test_cli_runner()
    r = runner.invoke(
        args=[
            "create-business",
            "Nova Spa",
            "--timezone",
            "Europe/Paris",
            "--region",
            "FR",
            "--currency",
            "EUR",
        ]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        args=[
            "create-user",
            "boss@nova.test",
            "--business",
            "nova spa",
            "--role",
            "owner",
            "--password",
            "a long password",
        ]
    )
    assert r.exit_code == 0, r.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "boss@nova.test"))
    assert user.role == "owner" and user.business.timezone == "Europe/Paris" and not user.must_change_password


def test_create_user_prompts_for_password(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-business", "Nova Spa"])
    r = runner.invoke(
        args=["create-user", "r@nova.test", "--business", "Nova Spa", "--role", "receptionist"],
        input="a long password\na long password\n",
    )
    assert r.exit_code == 0, r.output
    assert "a long password" not in r.output


def test_commands_refuse_bad_input(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["create-business", "X", "--timezone", "Nowhere/Else"]).exit_code != 0
    r = runner.invoke(
        args=[
            "create-user",
            "a@b.test",
            "--business",
            "Missing",
            "--role",
            "owner",
            "--password",
            "a long password",
        ]
    )
    assert r.exit_code != 0 and "No business called" in r.output


MONEY_TABLES = (
    "card_stamp",
    "customer_card",
    "points_transaction",
    "ledger_entry",
    "sale_reversal",
    "sale",
    "audit_event",
)


def test_demo_data_is_deterministic_and_consistent(app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["demo-data", "--customers", "120", "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert "owner@demo.frontdesk.test" in r.output and "frontdesk-demo" in r.output
    first = db.session.execute(
        select(Customer.first_name, Customer.last_name, Customer.phone).order_by(
            Customer.created_at, Customer.id
        )
    ).all()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 120
    assert db.session.scalar(select(func.count()).select_from(Booking)) > 100
    assert db.session.scalar(select(func.count()).where(Customer.is_dummy)) >= 1
    assert recount() == 0  # the counters agree with the bookings
    # Sales for the completed bookings, with their points; stamp cards; a few open accounts.
    assert db.session.scalar(select(func.count()).select_from(Sale)) >= 50
    assert db.session.scalar(select(func.count()).select_from(CustomerCard)) >= 20
    assert db.session.scalar(select(func.count()).where(Customer.ledger_balance < 0)) >= 5
    assert recount_money() == 0 and wrong_balances() == []  # every balance is the sum of its rows
    assert "stamp cards" in r.output
    # Same seed, fresh database: the same customers.
    for table in (*MONEY_TABLES, "customer_tag", "customer_location", "booking", "customer"):
        db.session.execute(db.text(f"DELETE FROM {table}"))
    db.session.commit()
    runner.invoke(args=["demo-data", "--customers", "120", "--seed", "7"])
    again = db.session.execute(
        select(Customer.first_name, Customer.last_name, Customer.phone).order_by(
            Customer.created_at, Customer.id
        )
    ).all()
    assert sorted(again) == sorted(first)
    assert db.session.scalar(select(func.count()).select_from(Business)) == 1


def test_demo_data_if_empty_skips_a_used_database(app, business):
    r = app.test_cli_runner().invoke(args=["demo-data", "--if-empty"])
    assert r.exit_code == 0 and "already has data" in r.output
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
