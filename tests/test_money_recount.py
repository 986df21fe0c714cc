"""`recount_money` and `flask recount`: every stored money balance checked against its rows and repaired,
set-based, only within the scope asked for."""

import pytest
from money_moves_support import assert_books_balance
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.loyalty import cards, programs
from webapp.models import Customer
from webapp.models.money import CustomerCard
from webapp.money import ledger, points, sales
from webapp.money.recount import recount_money, wrong_balances


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def book(business, make_customer, manager):
    """Three customers with sales (one refunded), points, a payment, an on-account sale and a card."""
    program = programs.create_program(
        business, name="Coffee card", stamps_required=8, reward="Free coffee", welcome_stamps=2, actor=manager
    )
    ana, ben, cai = (make_customer(first_name=n) for n in ("Ana", "Ben", "Cai"))
    sales.record_sale(ana, total=4200, actor=manager)
    refunded = sales.record_sale(ana, total=1000, actor=manager)
    sales.reverse_sale(refunded, kind="refund", reason="Returned", actor=manager)
    sales.record_sale(ben, total=2500, actor=manager, on_account=True)
    ledger.record_payment(ben, amount=1000, actor=manager)
    points.adjust_points(ben, points=40, reason="Goodwill", actor=manager)
    card = cards.enrol(cai, program, actor=manager)
    cards.add_stamps(card, count=3, actor=manager)
    db.session.commit()
    return {"ana": ana, "ben": ben, "cai": cai, "card": card}


def stored(customer) -> tuple:
    db.session.expire_all()
    c = db.session.get(Customer, customer.id)
    return c.total_spent, c.total_orders, c.points_balance, c.ledger_balance


def corrupt(customer, **values) -> None:
    """What raw SQL or a bad restore could leave behind."""
    db.session.execute(update(Customer).where(Customer.id == customer.id).values(**values))
    db.session.commit()


def test_consistent_books_need_no_repair(book):
    assert stored(book["ana"]) == (4200, 1, 42, 0)  # the refund took £10 and its 10 points off
    assert stored(book["ben"]) == (2500, 1, 65, -1500)
    assert recount_money() == 0
    assert wrong_balances() == []
    assert_books_balance([c.id for c in (book["ana"], book["ben"], book["cai"])])


def test_every_wrong_balance_is_repaired_and_counted_once_per_customer(book):
    corrupt(book["ana"], total_spent=1, total_orders=9)
    corrupt(book["ben"], points_balance=0, ledger_balance=7)
    db.session.execute(update(CustomerCard).where(CustomerCard.id == book["card"].id).values(stamps=99))
    db.session.commit()
    assert {(w[1], w[2], w[3]) for w in wrong_balances()} == {
        ("total_spent", 1, 4200),
        ("total_orders", 9, 1),
        ("points_balance", 0, 65),
        ("ledger_balance", 7, -1500),
        ("stamps", 99, 5),
    }
    assert recount_money() == 3
    db.session.commit()
    assert stored(book["ana"]) == (4200, 1, 42, 0) and stored(book["ben"]) == (2500, 1, 65, -1500)
    assert db.session.get(CustomerCard, book["card"].id).stamps == 5
    assert recount_money() == 0


def test_a_customer_without_rows_is_set_to_zero(book, make_customer):
    empty = make_customer(first_name="Dee")
    corrupt(empty, total_spent=500, total_orders=1, points_balance=3, ledger_balance=-200)
    assert recount_money(customer_ids=[empty.id]) == 1
    db.session.commit()
    assert stored(empty) == (0, 0, 0, 0)


def test_the_repair_keeps_the_customers_version_and_updated_at(book):
    ana = db.session.get(Customer, book["ana"].id)
    version, updated = ana.version, ana.updated_at
    corrupt(ana, points_balance=0)
    db.session.execute(
        update(Customer).where(Customer.id == ana.id).values(version=version, updated_at=updated)
    )
    db.session.commit()
    recount_money()
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Customer, ana.id)
    assert (again.version, again.updated_at, again.points_balance) == (version, updated, 42)


def test_the_scope_is_respected(book, make_business, make_customer):
    other = make_customer(business_=make_business("Elsewhere"), first_name="Eve")
    corrupt(other, total_spent=123)
    corrupt(book["ana"], total_spent=1)
    corrupt(book["ben"], total_spent=2)
    assert recount_money(customer_ids=[book["ana"].id]) == 1
    assert recount_money(business_id=book["ana"].business_id) == 1  # Ben; Eve is another business's
    db.session.commit()
    assert stored(other)[0] == 123
    assert recount_money() == 1
    db.session.commit()
    assert stored(other)[0] == 0


def test_the_repair_is_set_based(book, make_customer, count_queries, manager):
    few = [c.id for c in (book["ana"], book["ben"])]
    for c in (book["ana"], book["ben"]):
        corrupt(c, points_balance=1)
    with count_queries() as small:
        assert recount_money(customer_ids=few) == 2
    db.session.rollback()
    many = [make_customer() for _ in range(30)]
    for c in many:
        sales.record_sale(c, total=300, actor=manager)
    db.session.commit()
    for c in many:
        corrupt(c, points_balance=0)
    with count_queries() as large:
        assert recount_money() == 32  # Ana and Ben too: their repair above was rolled back
    assert large.count == small.count == 2


def test_flask_recount_reports_and_repairs_the_money(app, book):
    corrupt(book["ana"], total_spent=0)
    corrupt(book["ben"], ledger_balance=0)
    runner = app.test_cli_runner()
    r = runner.invoke(args=["recount"])
    assert r.exit_code == 0, r.output
    assert "Fixed the money balances of 2 customers" in r.output
    db.session.expire_all()
    assert stored(book["ana"])[0] == 4200 and stored(book["ben"])[3] == -1500
    r = runner.invoke(args=["recount"])
    assert "All money balances were already right" in r.output


def test_flask_recount_of_one_business(app, book, make_business, make_customer):
    other = make_customer(business_=make_business("Elsewhere"), first_name="Eve")
    corrupt(other, points_balance=9)
    corrupt(book["cai"], points_balance=9)
    r = app.test_cli_runner().invoke(args=["recount", "--business", "test salon"])
    assert "Fixed the money balances of 1 customer in" in r.output
    db.session.expire_all()
    assert stored(other)[2] == 9 and stored(book["cai"])[2] == 0
    assert db.session.scalar(select(Customer.points_balance).where(Customer.id == other.id)) == 9
