"""Everything that moves customers moves money: a merge (and the API's transfer, which is one) moves the
duplicate's sales, points, cards and ledger entries; its undo puts them back; "transfer bookings only"
moves no money; anonymizing keeps the amounts and wipes the person; a customer with money history is
never deleted."""

import subprocess
import sys
from pathlib import Path

import pytest
from money_moves_support import assert_books_balance
from sqlalchemy import func, select

from api_support import BASE, key_headers
from webapp.customers import services as customer_services
from webapp.customers.erasure import REDACTED
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty import cards, programs
from webapp.merge import queries
from webapp.merge import services as merge_services
from webapp.merge.undo import undo_merge
from webapp.models import AuditEvent, Customer
from webapp.models.money import CardStamp, CustomerCard, LedgerEntry, PointsTransaction, Sale, SaleReversal
from webapp.money import ledger, points, sales

ROOT = Path(__file__).resolve().parent.parent
MONEY = (Sale, PointsTransaction, LedgerEntry, CustomerCard, CardStamp)


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def program(business, manager):
    found = programs.create_program(
        business,
        name="Blow-dry card",
        stamps_required=5,
        reward="Free blow-dry",
        welcome_stamps=1,
        actor=manager,
    )
    db.session.commit()
    return found


@pytest.fixture
def pair(make_customer, manager, program):
    """Dup (the duplicate): a paid sale of £20 (20 points), an on-account sale of £30 (30 points), a
    voided sale of £5 (its 5 points clawed back), a £10 payment (so it owes £20) and a card with 3
    stamps. Main (the survivor): a £15 sale (15 points)."""
    source, target = make_customer(first_name="Dup"), make_customer(first_name="Main")
    sales.record_sale(source, total=2000, actor=manager, description="Colour")
    sales.record_sale(source, total=3000, actor=manager, on_account=True)
    voided = sales.record_sale(source, total=500, actor=manager)
    sales.reverse_sale(voided, kind="void", reason="Typed twice", actor=manager)
    ledger.record_payment(source, amount=1000, actor=manager, reference="BACS J DUP")
    card = cards.enrol(source, program, actor=manager)
    cards.add_stamps(card, count=2, actor=manager)
    sales.record_sale(target, total=1500, actor=manager)
    db.session.commit()
    return source, target


def owners(model, ids=None) -> dict:
    """id -> customer_id of every row of `model` (but move markers)."""
    query = select(model.id, model.customer_id)
    if hasattr(model, "kind"):
        query = query.where(model.kind != "move")
    return dict(db.session.execute(query).all())


def snapshot_owners() -> dict:
    db.session.expire_all()
    return {model.__name__: owners(model) for model in MONEY}


def balances(customer) -> tuple:
    db.session.expire_all()
    c = db.session.get(Customer, customer.id)
    return c.total_spent, c.total_orders, c.points_balance, c.ledger_balance


def markers(model, customer) -> list:
    return db.session.scalars(
        select(model.balance_after)
        .where(model.customer_id == customer.id, model.kind == "move")
        .order_by(model.id)
    ).all()


def test_the_receivers_are_connected_when_the_app_starts(tmp_path):
    """A fresh interpreter (nothing imported by the tests): creating the app connects money's
    receivers for merges, undos and anonymization."""
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    code = (
        "from webapp import create_app, signals\n"
        f"create_app({{'SQLALCHEMY_DATABASE_URI': {url!r}, 'SECRET_KEY': 'x'}})\n"
        "for s in (signals.customers_merged, signals.merge_undone, signals.customer_anonymized):\n"
        "    print(sorted(f'{r.__module__}.{r.__name__}' for r in s.receivers_for(object())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    merged, undone, anonymized = out.stdout.splitlines()[-3:]
    assert "webapp.money.receivers_moves.follow_merge" in merged
    assert "webapp.money.receivers_moves.follow_undo" in undone
    assert "webapp.money.receivers_moves.forget_money_text" in anonymized


def test_merge_moves_every_money_row_and_the_balances_follow(pair, manager):
    source, target = pair
    assert balances(source) == (5000, 2, 50, -2000) and balances(target) == (1500, 1, 15, 0)
    event = merge_services.merge_customers(source, target, None, manager)
    db.session.commit()
    for model in MONEY:
        assert set(owners(model).values()) == {target.id}, model.__name__
    assert db.session.scalar(select(func.count()).select_from(SaleReversal)) == 1  # follows its sale
    assert balances(target) == (6500, 3, 65, -2000)
    assert balances(source) == (0, 0, 0, 0)
    assert markers(PointsTransaction, target) == [65] and markers(LedgerEntry, target) == [-2000]
    assert markers(PointsTransaction, source) == [] and markers(LedgerEntry, source) == []
    assert event.changes["points"] == 50
    assert len(event.changes["moved"]["sale"]) == 3 and len(event.changes["moved"]["customer_card"]) == 1
    card = db.session.scalar(select(CustomerCard))
    assert card.customer_id == target.id and card.stamps == 3
    assert_books_balance([source.id, target.id])


def test_undo_puts_every_row_back_and_both_balances_follow(pair, manager):
    source, target = pair
    before = snapshot_owners()
    was = balances(source), balances(target)
    event = merge_services.merge_customers(source, target, None, manager)
    db.session.commit()
    result = undo_merge(event, manager)
    db.session.commit()
    assert snapshot_owners() == before
    assert (balances(source), balances(target)) == was
    assert result["stayed"] == 0
    # The survivor: the merge's marker (65) and the undo's (15); the duplicate: the undo's.
    assert markers(PointsTransaction, target) == [65, 15] and markers(PointsTransaction, source) == [50]
    assert markers(LedgerEntry, target) == [-2000, 0] and markers(LedgerEntry, source) == [-2000]
    assert_books_balance([source.id, target.id])


def test_what_the_survivor_did_to_the_duplicates_sales_and_card_goes_back_with_them(pair, manager):
    source, target = pair
    colour = db.session.scalar(select(Sale).where(Sale.description == "Colour"))
    on_account = db.session.scalar(select(Sale).where(Sale.on_account.is_(True)))
    event = merge_services.merge_customers(source, target, None, manager)
    db.session.commit()
    sales.reverse_sale(colour, kind="refund", reason="Unhappy", actor=manager)
    sales.reverse_sale(on_account, kind="void", reason="Wrong customer", actor=manager)
    card = db.session.scalar(select(CustomerCard))
    cards.add_stamps(card, count=2, actor=manager)
    cards.redeem_reward(card, actor=manager)
    points.adjust_points(target, points=7, reason="Goodwill", actor=manager)
    db.session.commit()
    assert balances(target) == (1500, 1, 22, 1000)
    undo_merge(event, manager)
    db.session.commit()
    # The refunds' clawbacks and the void's credit belong with their sales; the stamps with their card.
    for row in db.session.scalars(select(PointsTransaction).where(PointsTransaction.kind == "clawback")):
        assert row.customer_id == source.id
    for row in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reversal")):
        assert row.customer_id == source.id
    assert set(db.session.scalars(select(CardStamp.customer_id))) == {source.id}
    assert balances(source) == (0, 0, 0, 1000)  # the £10 payment is all that is left on account
    assert balances(target) == (1500, 1, 22, 0)  # its own sale and the goodwill adjustment
    assert db.session.get(CustomerCard, card.id).stamps == 0
    assert_books_balance([source.id, target.id])


def test_undo_is_refused_when_the_survivor_spent_the_duplicates_points(pair, manager):
    source, target = pair
    event = merge_services.merge_customers(source, target, None, manager)
    db.session.commit()
    points.redeem_points(target, points=60, actor=manager)
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        undo_merge(event, manager)
    db.session.rollback()
    assert "Main Test has used 45 of the points that came with Dup Test" in caught.value.message
    assert "never goes below zero" in caught.value.message
    assert db.session.get(Customer, source.id).merged_into_id == target.id  # nothing was undone
    assert balances(target) == (6500, 3, 5, -2000)
    assert_books_balance([source.id, target.id])


def test_the_undo_screen_says_why_when_points_were_spent(pair, manager, login_as):
    source, target = pair
    event = merge_services.merge_customers(source, target, None, manager)
    db.session.commit()
    points.redeem_points(target, points=65, actor=manager)
    db.session.commit()
    client = login_as("manager")
    r = client.post(f"/customers/merge/{event.id}/undo", follow_redirects=True)
    assert r.status_code == 200
    assert "The merge cannot be undone." in r.get_data(as_text=True)
    assert "has used 50 of the points" in r.get_data(as_text=True)
    assert db.session.get(Customer, source.id).merged_into_id == target.id


def test_transfer_bookings_only_moves_no_money(pair, manager, make_booking):
    source, target = pair
    make_booking(source, days=3)
    before, was = snapshot_owners(), (balances(source), balances(target))
    assert merge_services.transfer_bookings(source, target, manager) == 1
    db.session.commit()
    assert snapshot_owners() == before and (balances(source), balances(target)) == was


def test_the_apis_transfer_moves_every_sale_point_card_and_ledger_entry(client, business, pair):
    source, target = pair
    r = client.put(
        f"{BASE}/customers/transfer",
        json={"source_id": str(source.id), "target_id": str(target.id)},
        headers=key_headers(business),
    )
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["moved"]["sale"] == 3 and body["moved"]["customer_card"] == 1
    assert body["moved"]["points_transaction"] == 4 and body["moved"]["ledger_entry"] == 2
    assert body["points_moved"] == 50 and body["target"]["loyalty_points"] == 65
    for model in MONEY:
        assert set(owners(model).values()) == {target.id}
    assert_books_balance([source.id, target.id])


def test_a_receptionist_sees_no_merge_preview(pair, login_as):
    source, target = pair
    r = login_as("receptionist").get(f"/customers/merge?source={source.id}&target={target.id}")
    assert r.status_code == 403


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_the_merge_preview_lists_the_money_that_moves(pair, login_as, role):
    source, target = pair
    client = login_as(role)
    html = client.get(f"/customers/merge?source={source.id}&target={target.id}").get_data(as_text=True)
    assert "3 sales (£50.00 spent, after voids and refunds) move to Main Test" in html
    assert "50 points move to Main Test" in html
    assert "1 stamp card, with its stamps, moves to Main Test" in html
    assert "Store credit (2 ledger entries): owes £20.00, moves to Main Test" in html
    assert "sales, points, stamp cards and store credit stay with Dup Test" in html
    assert "points transaction" not in html  # summed up, not listed table by table


def test_the_preview_counts_the_money_in_one_query(pair, count_queries):
    source, _ = pair
    business_id, source_id = source.business_id, source.id
    with count_queries() as q:
        found = queries.money_moves(business_id, source_id)
    assert q.count == 1
    assert found == {
        "sales": 3,
        "sales_total": 5000,
        "points": 50,
        "cards": 1,
        "ledger_entries": 2,
        "ledger_balance": -2000,
    }


def test_the_preview_of_a_customer_without_money_lists_none(make_customer, login_as):
    source, target = make_customer(first_name="Dup"), make_customer(first_name="Main")
    html = (
        login_as("manager")
        .get(f"/customers/merge?source={source.id}&target={target.id}")
        .get_data(as_text=True)
    )
    assert "0 bookings move" in html
    assert " sales (" not in html and "points move" not in html and "Store credit" not in html


def test_anonymizing_keeps_the_amounts_and_wipes_the_words(pair, manager):
    source, _ = pair
    points.adjust_points(source, points=5, reason="Her birthday, allergic to latex", actor=manager)
    ledger.adjust_ledger(source, amount=-300, reason="Broke a mirror", actor=manager)
    db.session.commit()
    amounts = {
        model.__name__: sorted(db.session.execute(select(*cols)).all())
        for model, cols in (
            (Sale, (Sale.total, Sale.receipt_number, Sale.points_earned, Sale.on_account)),
            (PointsTransaction, (PointsTransaction.points, PointsTransaction.balance_after)),
            (LedgerEntry, (LedgerEntry.amount, LedgerEntry.type, LedgerEntry.balance_after)),
            (SaleReversal, (SaleReversal.amount, SaleReversal.kind)),
        )
    }
    was = balances(source)
    assert customer_services.delete_or_anonymize(source, manager) == "anonymized"
    db.session.commit()
    db.session.expire_all()
    for model, cols in (
        (Sale, (Sale.total, Sale.receipt_number, Sale.points_earned, Sale.on_account)),
        (PointsTransaction, (PointsTransaction.points, PointsTransaction.balance_after)),
        (LedgerEntry, (LedgerEntry.amount, LedgerEntry.type, LedgerEntry.balance_after)),
        (SaleReversal, (SaleReversal.amount, SaleReversal.kind)),
    ):
        assert sorted(db.session.execute(select(*cols)).all()) == amounts[model.__name__]
    assert balances(source) == was
    assert db.session.scalar(select(Sale.description).where(Sale.total == 2000)) == "Colour"  # what was sold
    assert set(db.session.scalars(select(SaleReversal.reason))) == {""}
    assert set(
        db.session.scalars(select(PointsTransaction.reason).where(PointsTransaction.customer_id == source.id))
    ) == {""}
    typed = select(LedgerEntry).where(LedgerEntry.kind.in_(("payment", "adjust")))
    assert {(e.description, e.reference_id) for e in db.session.scalars(typed)} == {("", "")}
    events = db.session.scalars(select(AuditEvent.changes).where(AuditEvent.customer_id == source.id)).all()
    text = repr(events)
    assert (
        "latex" not in text
        and "mirror" not in text
        and "BACS J DUP" not in text
        and "Typed twice" not in text
    )
    assert REDACTED in text
    assert_books_balance([source.id])


def test_anonymizing_a_survivor_wipes_the_words_of_the_rows_merged_into_it(pair, manager):
    source, target = pair
    merge_services.merge_customers(source, target, None, manager)
    db.session.commit()
    assert customer_services.delete_or_anonymize(target, manager) == "anonymized"
    db.session.commit()
    assert set(db.session.scalars(select(SaleReversal.reason))) == {""}
    payments = select(LedgerEntry.reference_id).where(LedgerEntry.kind == "payment")
    assert set(db.session.scalars(payments)) == {""}
    assert balances(target) == (6500, 3, 65, -2000)


def sale_only(customer, actor, program):
    sales.record_sale(customer, total=100, actor=actor)


def points_only(customer, actor, program):
    points.adjust_points(customer, points=3, reason="Welcome", actor=actor)


def ledger_only(customer, actor, program):
    ledger.record_payment(customer, amount=500, actor=actor)


def card_only(customer, actor, program):
    cards.enrol(customer, program, actor=actor)


@pytest.mark.parametrize("history", [sale_only, points_only, ledger_only, card_only])
def test_a_customer_with_money_history_is_anonymized_not_deleted(history, make_customer, manager, program):
    customer = make_customer(first_name="Ana")
    history(customer, manager, program)
    db.session.commit()
    assert customer_services.delete_or_anonymize(customer, manager) == "anonymized"
    db.session.commit()
    found = db.session.get(Customer, customer.id)
    assert found is not None and found.anonymized_at is not None and found.first_name == ""


def test_a_customer_without_any_history_is_still_deleted(make_customer, manager):
    customer = make_customer(first_name="Ana")
    assert customer_services.delete_or_anonymize(customer, manager) == "deleted"
    db.session.commit()
    assert db.session.get(Customer, customer.id) is None


def test_deleting_from_the_profile_anonymizes_a_customer_with_sales(make_customer, manager, login_as):
    customer = make_customer(first_name="Ana")
    sales.record_sale(customer, total=2500, actor=manager)
    db.session.commit()
    r = login_as("manager").post(f"/customers/{customer.id}/delete", follow_redirects=True)
    assert r.status_code == 200
    found = db.session.get(Customer, customer.id)
    assert found is not None and found.anonymized_at is not None and found.total_spent == 2500


def test_an_anonymized_customer_takes_no_new_payment(pair, manager):
    source, _ = pair
    customer_services.delete_or_anonymize(source, manager)
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(Invalid) as caught:
        ledger.record_payment(db.session.get(Customer, source.id), amount=100, actor=manager)
    assert caught.value.field == "amount"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == count
