"""Money under concurrency, with real threads and their own sessions, on PostgreSQL (row locks; SQLite
has one writer at a time, so there is no race to lose there): receipt numbers, redemptions, reversals."""

import threading
import time

import pytest
from sqlalchemy import func, select

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import Customer, PointsTransaction, Sale, SaleReversal, StaffUser
from webapp.money import common, points, sales

HOLD = 0.3  # seconds a thread keeps the customer locked, so the others surely arrive meanwhile


@pytest.fixture(autouse=True)
def _postgresql_only(app):
    if app.backend != "postgresql":
        pytest.skip("concurrent row locks: PostgreSQL only (run with TEST_DATABASE_URL)")


def together(app, *calls):
    """Run each call in a thread with its own app context (its own session), released at once; each
    commits on success. Results in order: ("ok", value) or ("invalid", message)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        with app.app_context():
            barrier.wait()
            try:
                value = call()
                db.session.commit()
                results[i] = ("ok", value)
            except Invalid as e:
                db.session.rollback()
                results[i] = ("invalid", e.message)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def slow_lock(monkeypatch):
    """Hold the customer's lock a moment after taking it (the window a lost update would use)."""
    original = common.locked_customer

    def held(*args, **kwargs):
        locked = original(*args, **kwargs)
        time.sleep(HOLD)
        return locked

    for module in (sales, points):
        monkeypatch.setattr(module, "locked_customer", held)


def mine(customer_id, user_id):
    """The customer and the staff user, loaded in the calling thread's session."""
    return db.session.get(Customer, customer_id), db.session.get(StaffUser, user_id)


def test_two_tills_at_once_get_different_receipt_numbers(app, make_customer, make_user):
    user = make_user("receptionist")
    customers = [make_customer() for _ in range(4)]
    ids = [(c.id, user.id) for c in customers]

    def sell(customer_id, user_id):
        def call():
            customer, actor = mine(customer_id, user_id)
            return sales.record_sale(customer, total=1000, actor=actor).receipt_number

        return call

    for _ in range(3):
        results = together(app, *(sell(*pair) for pair in ids))
        assert all(kind == "ok" for kind, _ in results), results
    numbers = list(db.session.scalars(select(Sale.receipt_number)))
    assert len(numbers) == 12 and len(set(numbers)) == 12
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 13))


def test_concurrent_sales_of_one_customer_all_count(app, make_customer, make_user, slow_lock):
    user = make_user("receptionist")
    customer = make_customer()

    def sell():
        c, actor = mine(customer.id, user.id)
        return sales.record_sale(c, total=2500, actor=actor, on_account=True).receipt_number

    results = together(app, sell, sell, sell)
    assert [kind for kind, _ in results] == ["ok"] * 3
    db.session.expire_all()
    after = db.session.get(Customer, customer.id)
    assert (after.total_spent, after.total_orders, after.points_balance, after.ledger_balance) == (
        7500,
        3,
        75,
        -7500,
    )


def test_redemptions_that_together_exceed_the_balance(app, make_customer, make_user, slow_lock):
    """100 points, three tills redeem 40 each at once: exactly two succeed, 20 points are left."""
    user = make_user("receptionist")
    customer = make_customer(first_name="Ana")
    points.adjust_points(customer, points=100, reason="Opening balance", actor=make_user("manager"))
    db.session.commit()

    def redeem():
        c, actor = mine(customer.id, user.id)
        return points.redeem_points(c, points=40, actor=actor).remaining_points

    results = together(app, redeem, redeem, redeem)
    assert sorted(kind for kind, _ in results) == ["invalid", "ok", "ok"]
    assert sorted(value for kind, value in results if kind == "ok") == [20, 60]
    assert [value for kind, value in results if kind == "invalid"] == ["Ana has only 20 points."]
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).points_balance == 20
    total = db.session.scalar(
        select(func.sum(PointsTransaction.points)).where(PointsTransaction.customer_id == customer.id)
    )
    assert total == 20
    afters = sorted(db.session.scalars(select(PointsTransaction.balance_after)))
    assert afters == [20, 60, 100]


def test_two_managers_reversing_one_sale(app, make_customer, make_user, slow_lock):
    first, second = make_user("manager"), make_user("manager")
    customer = make_customer()
    sale = sales.record_sale(customer, total=5000, actor=first)
    db.session.commit()

    def reverse(user_id, kind):
        def call():
            actor = db.session.get(StaffUser, user_id)
            return sales.reverse_sale(sales.sale_for(customer.business_id, sale.id), kind=kind,
                                      reason="Mistake", actor=actor).kind  # fmt: skip

        return call

    results = together(app, reverse(first.id, "void"), reverse(second.id, "refund"))
    assert sorted(kind for kind, _ in results) == ["invalid", "ok"]
    assert db.session.scalar(select(func.count()).select_from(SaleReversal)) == 1
    db.session.expire_all()
    after = db.session.get(Customer, customer.id)
    assert (after.total_spent, after.total_orders, after.points_balance) == (0, 0, 0)
