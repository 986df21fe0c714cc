"""The bulk demo loader writes the same search keys as the ORM, counters that agree, and the same book
for the same seed (also when a worker process generates the chunks)."""

from sqlalchemy import func, select

from webapp.bookings.counters import recount
from webapp.demo import load_demo
from webapp.extensions import db
from webapp.models import Booking, Business, Customer
from webapp.models.search_keys import search_keys
from webapp.search import read_criteria, search_criteria


def book_fingerprint():
    return db.session.execute(
        select(Customer.first_name, Customer.last_name, Customer.phone, Customer.total_bookings).order_by(
            Customer.search_name, Customer.phone
        )
    ).all()


def test_demo_rows_carry_the_orm_search_keys_and_true_counters(app):
    result = load_demo(240, seed=3, chunk=60)  # four chunks: the worker-process path
    assert result.customers == 240
    assert db.session.scalar(select(func.count()).select_from(Booking)) == result.bookings
    for c in db.session.scalars(select(Customer)):
        keys = search_keys(c.first_name, c.last_name, c.dummy_label, c.email_normalized, c.phone, c.company)
        assert {k: getattr(c, k) for k in keys} == keys, c.display_name
    assert recount() == 0
    business = db.session.scalar(select(Business))
    someone = db.session.scalar(select(Customer).where(Customer.phone.is_not(None)).limit(1))
    typed = f"0{someone.phone[3:7]} {someone.phone[7:]}"
    found = search_criteria(business, read_criteria(_args(q=typed)))
    assert someone.id in [c.id for c in found.customers]


def test_the_same_seed_gives_the_same_book(app, monkeypatch):
    load_demo(90, seed=5, chunk=30)  # three chunks, made by a worker process
    first = book_fingerprint()
    for table in ("points_transaction", "sale", "customer_tag", "customer_location", "booking", "customer"):
        db.session.execute(db.text(f"DELETE FROM {table}"))
    db.session.commit()
    monkeypatch.setattr("webapp.demo.os.cpu_count", lambda: 1)
    load_demo(90, seed=5, chunk=30)  # the same chunks made in this process
    assert book_fingerprint() == first


def _args(**values):
    from werkzeug.datastructures import MultiDict

    return MultiDict(values)
