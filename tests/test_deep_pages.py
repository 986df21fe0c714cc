"""Deep list pages from bucket counts: the same keys as OFFSET at every offset, and counts that stay
exact through creates, renames, merges, deletes, the migration's backfill, demo loads and repairs."""

import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import delete, select, update

from helpers import run_state_machine
from webapp.demo import load_demo
from webapp.extensions import db
from webapp.merge import services, undo
from webapp.models import Customer, customer_rank_bucket
from webapp.search import deep_pages
from webapp.search.conditions import base_conditions, order_by
from webapp.search.criteria import Criteria
from webapp.search.rows import row_key

SORTS = ("name", "-name", "created", "-created")
# Short names are buckets of their own ("a", "ab"), others share a 3-letter prefix; accents fold away.
NAMES = [
    ("A", ""),
    ("A", "B"),
    ("Ab", ""),
    ("Ab", "Li"),
    ("Abe", ""),
    ("Abel", "Ng"),
    ("Abby", "Li"),
    ("Al", ""),
    ("Alan", "Ng"),
    ("Ålan", "Li"),
    ("Bo", ""),
    ("Bö", "Li"),
    ("Zo", "Ng"),
    ("Zoë", ""),
    ("", ""),
]
# Ties, and instants either side of UTC midnight (the day buckets' edges).
INSTANTS = [
    datetime(2025, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 3, 2, 0, 0, tzinfo=UTC),
    datetime(2025, 3, 2, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2025, 3, 2, 12, 0, tzinfo=UTC),
    datetime(2025, 3, 4, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
]


def new_customer(business_id: int, rng: random.Random, **fields) -> Customer:
    first, last = rng.choice(NAMES)
    walk_in = rng.random() < 0.1
    customer = Customer(
        business_id=business_id,
        first_name="" if walk_in else first,
        last_name="" if walk_in else last,
        is_dummy=walk_in,
        dummy_label=f"Walk-in 1{rng.randint(0, 9)}:30" if walk_in else "",
        created_at=rng.choice(INSTANTS),
        **fields,
    )
    db.session.add(customer)
    return customer


def add_book(business_id: int, count: int, merged: int = 0, seed: int = 1) -> list[Customer]:
    """`count` customers with many tied names and creation times, the last `merged` merged away."""
    rng = random.Random(seed)
    customers = [new_customer(business_id, rng) for _ in range(count)]
    db.session.flush()
    for customer in customers[count - merged :]:
        customer.merged_into_id = rng.choice(customers[: count - merged]).id
    db.session.commit()
    return customers


def truth() -> dict:
    """The buckets counted in Python from the live customers: an oracle apart from the SQL."""
    counted = Counter()
    live = select(Customer.business_id, Customer.search_name, Customer.created_at).where(
        Customer.merged_into_id.is_(None)
    )
    for business_id, name, created in db.session.execute(live):
        counted[(business_id, "name", name[:3])] += 1
        counted[(business_id, "created", created.astimezone(UTC).date().isoformat())] += 1
    return dict(counted)


def stored() -> dict:
    return deep_pages.stored_counts([])


def plain_page(business, c: Criteria):
    """The statement the list runs without buckets."""
    offset = (c.page - 1) * c.limit
    key = row_key()
    page = select(key.label("key")).where(*base_conditions(business, c)).order_by(*order_by(c.sort))
    return page.limit(c.limit + 1).offset(offset).subquery()


def keys(page) -> list:
    return db.session.scalars(select(page.c.key)).all()


# --- the seek -------------------------------------------------------------------------------------


def test_applies_only_to_deep_pages_of_the_whole_book_in_a_bucketed_sort():
    deep = -(-deep_pages.DEEP_FROM // 30) + 1  # the first page whose offset reaches DEEP_FROM
    assert deep_pages.applies(Criteria(sort="-created", page=deep, limit=30))
    assert not deep_pages.applies(Criteria(sort="-created", page=deep - 1, limit=30))
    assert not deep_pages.applies(Criteria(sort="name", page=deep, limit=30, q="ann"))
    assert not deep_pages.applies(Criteria(sort="name", page=deep, limit=30, tags=[1]))
    assert not deep_pages.applies(Criteria(sort="-points", page=deep, limit=30))


def test_keys_page_equals_offset_at_every_offset_in_every_sort(business, make_business):
    other = make_business("Elsewhere")
    add_book(other.id, 40, seed=2)  # another business's buckets must not count
    book = add_book(business.id, 280, merged=40)
    live = len(book) - 40
    for sort in SORTS:
        for offset in range(live + 6):  # one row a page (two keys): every offset, across every edge
            c = Criteria(sort=sort, page=offset + 1, limit=1)
            assert keys(deep_pages.keys_page(business, c, row_key())) == keys(plain_page(business, c)), (
                sort,
                offset,
            )
        for page in range(1, live // 30 + 3):
            c = Criteria(sort=sort, page=page, limit=30)
            assert keys(deep_pages.keys_page(business, c, row_key())) == keys(plain_page(business, c))
        past = Criteria(sort=sort, page=live + 6, limit=1)
        assert keys(deep_pages.keys_page(business, past, row_key())) == []


def test_an_empty_book_gives_no_rows(business):
    for sort in SORTS:
        assert keys(deep_pages.keys_page(business, Criteria(sort=sort, page=1, limit=30), row_key())) == []


# --- the counts -----------------------------------------------------------------------------------


def test_buckets_always_equal_a_recount(app, business, make_business):
    businesses = [business.id, make_business("Elsewhere").id]
    names = st.sampled_from(NAMES)

    class Book(RuleBasedStateMachine):
        """Random creates, renames, merges, un-merges and deletes in two businesses."""

        @initialize()
        def start(self):
            db.session.rollback()
            db.session.execute(update(Customer).values(merged_into_id=None))
            db.session.execute(delete(Customer))
            db.session.commit()
            self.ids: list = []
            self.rng = random.Random(0)

        def pick(self, index: int) -> Customer:
            return db.session.get(Customer, self.ids[index % len(self.ids)])

        @rule(where=st.sampled_from(businesses), when=st.sampled_from(INSTANTS), name=names)
        def create(self, where, when, name):
            customer = Customer(business_id=where, first_name=name[0], last_name=name[1], created_at=when)
            db.session.add(customer)
            db.session.commit()
            self.ids.append(customer.id)

        @precondition(lambda self: self.ids)
        @rule(index=st.integers(0, 50), name=names)
        def rename(self, index, name):
            customer = self.pick(index)
            customer.first_name, customer.last_name = name
            db.session.commit()

        @precondition(lambda self: len(self.ids) > 1)
        @rule(index=st.integers(0, 50), into=st.integers(0, 50))
        def merge(self, index, into):
            source, target = self.pick(index), self.pick(into)
            if source.id != target.id and source.business_id == target.business_id:
                source.merged_into_id = target.id
                db.session.commit()

        @precondition(lambda self: self.ids)
        @rule(index=st.integers(0, 50))
        def unmerge(self, index):
            self.pick(index).merged_into_id = None
            db.session.commit()

        @precondition(lambda self: self.ids)
        @rule(index=st.integers(0, 50))
        def remove(self, index):
            customer = self.pick(index)
            db.session.execute(  # with SQL, as a bulk repair would: the triggers see it all the same
                update(Customer).where(Customer.merged_into_id == customer.id).values(merged_into_id=None)
            )
            db.session.delete(customer)
            db.session.commit()
            self.ids.remove(customer.id)

        @invariant()
        def buckets_equal_a_recount(self):
            assert stored() == truth()
            assert deep_pages.rebuild() == 0
            db.session.rollback()

    run_state_machine(Book, 50 if app.backend == "sqlite" else 30)


def test_raw_moves_between_businesses_and_days_are_counted(business, make_business):
    """Nothing in the app does these; the triggers still follow them."""
    other = make_business("Elsewhere")
    book = add_book(business.id, 30, merged=5)
    db.session.execute(
        update(Customer).where(Customer.id.in_([c.id for c in book[::3]])).values(business_id=other.id)
    )
    db.session.execute(
        update(Customer)
        .where(Customer.id.in_([c.id for c in book[::2]]))
        .values(created_at=datetime(2024, 2, 29, 23, 0, tzinfo=UTC))
    )
    db.session.commit()
    assert stored() == truth()


def test_merge_and_undo_through_the_services_keep_the_counts(business, make_customer, make_user):
    manager = make_user("manager")
    source = make_customer(first_name="Zed", last_name="Adams")
    target = make_customer(first_name="Ann", last_name="Lee")
    choices = {name: "source" for name, _ in services.CHOICE_FIELDS}  # the survivor takes "Zed"
    event = services.merge_customers(source, target, choices, manager)
    db.session.commit()
    assert stored() == truth()
    assert truth()[(business.id, "name", "zed")] == 1
    undo.undo_merge(event, manager)
    db.session.commit()
    assert stored() == truth()


def test_rebuild_repairs_one_business_or_all(business, make_business):
    other = make_business("Elsewhere")
    add_book(business.id, 50, merged=5)
    add_book(other.id, 20, seed=3)
    want = truth()
    db.session.execute(delete(customer_rank_bucket))
    db.session.commit()
    assert deep_pages.rebuild(business.id) > 0
    db.session.commit()
    assert {k: n for k, n in stored().items() if k[0] == business.id} == {
        k: n for k, n in want.items() if k[0] == business.id
    }
    assert deep_pages.rebuild(business.id) == 0
    assert deep_pages.rebuild() == sum(1 for k in want if k[0] == other.id)
    db.session.commit()
    assert stored() == want


def test_recount_command_rebuilds_the_bucket_counts(app, business):
    add_book(business.id, 20)
    db.session.execute(update(customer_rank_bucket).values(n=customer_rank_bucket.c.n + 1))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert "Fixed " in result.output and " list bucket counts in " in result.output
    assert stored() == truth()
    assert "All list bucket counts were already right" in runner.invoke(args=["recount"]).output


def test_the_migration_backfills_the_counts(app, business, make_business):
    add_book(business.id, 60, merged=10)
    add_book(make_business("Elsewhere").id, 15, seed=4)
    want = truth()
    db.session.commit()
    try:
        downgrade(revision="0005_merge")
    finally:
        upgrade()
    assert stored() == want


# --- bulk loads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bulk", [False, True], ids=["row-by-row", "bulk"])
def test_a_demo_load_leaves_exact_counts_and_live_triggers(app, monkeypatch, bulk):
    if bulk:  # indexes dropped and triggers off (SQLite: dropped) for the load, counted once after
        monkeypatch.setattr("webapp.bulk.BULK_REBUILD_FROM", 100)
    load_demo(300, seed=6)
    assert stored() == truth()
    demo = db.session.scalar(select(Customer.business_id).limit(1))
    add_book(demo, 5)  # the triggers are back
    assert stored() == truth()


def test_the_list_pages_the_same_with_and_without_buckets(business, monkeypatch):
    from werkzeug.datastructures import MultiDict

    from webapp.search import read_criteria, search_criteria

    add_book(business.id, 75, merged=5)
    for sort in SORTS:
        pages = {}
        for deep_from in (10**9, 0):
            monkeypatch.setattr(deep_pages, "DEEP_FROM", deep_from)
            found = [
                search_criteria(
                    business, read_criteria(MultiDict({"sort": sort, "page": str(p), "limit": "7"}))
                )
                for p in range(1, 13)
            ]
            pages[deep_from] = [([c.id for c in r.customers], r.has_next) for r in found]
        assert pages[0] == pages[10**9], sort
