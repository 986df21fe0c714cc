"""The store-credit ledger (webapp/money/ledger.py): payments, adjustments, balances, date ranges."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import case, func, select, update

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Customer, LedgerEntry
from webapp.money.ledger import adjust_ledger, ledger_entries, record_payment
from webapp.money.sales import record_sale


@pytest.fixture
def staff(make_user):
    return {"receptionist": make_user("receptionist"), "manager": make_user("manager")}


def fresh(customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


@pytest.fixture
def debtor(make_customer, staff):
    """Ana, who owes £50.00 for an on-account sale."""
    customer = make_customer(first_name="Ana")
    record_sale(customer, total=5000, actor=staff["receptionist"], on_account=True)
    db.session.commit()
    return customer


def test_a_payment_credits_the_account(debtor, staff):
    entry = record_payment(debtor, amount=3000, actor=staff["receptionist"], reference="Card 4421")
    db.session.commit()
    assert (entry.type, entry.kind, entry.amount, entry.balance_after) == ("credit", "payment", 3000, -2000)
    assert entry.reference_id == "Card 4421" and entry.description == "Payment received"
    assert fresh(debtor).ledger_balance == -2000
    record_payment(debtor, amount=2500, actor=staff["receptionist"], description="Cash")
    db.session.commit()
    assert fresh(debtor).ledger_balance == 500  # paid more than owed: in credit
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.payment")).first()
    assert event.changes["amount"] == 3000 and event.changes["reference"] == "Card 4421"


@pytest.mark.parametrize(
    ("amount", "words"),
    [(0, "more than zero"), (-500, "more than zero"), (10**11, "too large"), ("50", "as a number"),
     (None, "as a number")],
)  # fmt: skip
def test_bad_payments_write_nothing(debtor, staff, amount, words):
    with pytest.raises(Invalid) as caught:
        record_payment(debtor, amount=amount, actor=staff["receptionist"])
    assert caught.value.field == "amount" and words in caught.value.message
    db.session.rollback()
    assert count() == 1 and fresh(debtor).ledger_balance == -5000


def test_no_payment_on_an_anonymized_customer(debtor, staff):
    db.session.execute(
        update(Customer).where(Customer.id == debtor.id).values(anonymized_at=datetime.now(UTC))
    )
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        record_payment(debtor, amount=100, actor=staff["receptionist"])
    assert caught.value.field == "amount" and "anonymized" in caught.value.message
    db.session.rollback()
    assert count() == 1


def test_a_reference_too_long_is_refused(debtor, staff):
    with pytest.raises(Invalid) as caught:
        record_payment(debtor, amount=100, actor=staff["receptionist"], reference="x" * 65)
    assert caught.value.field == "reference"


def test_a_manager_adjusts_both_ways_with_a_reason(debtor, staff):
    adjust_ledger(debtor, amount=1000, reason="Goodwill for the wait", actor=staff["manager"])
    adjust_ledger(debtor, amount=-250, reason="Forgot the conditioner", actor=staff["manager"])
    db.session.commit()
    entries = ledger_entries(debtor)
    assert [(e.type, e.kind, e.amount, e.balance_after) for e in entries] == [
        ("debit", "sale", 5000, -5000),
        ("credit", "adjust", 1000, -4000),
        ("debit", "adjust", 250, -4250),
    ]
    assert entries[1].description == "Goodwill for the wait"
    assert fresh(debtor).ledger_balance == -4250


@pytest.mark.parametrize(
    ("amount", "reason", "field", "who"),
    [(0, "x", "amount", "manager"), (100, "", "reason", "manager"), (100, "x", None, "receptionist")],
)
def test_bad_adjustments_write_nothing(debtor, staff, amount, reason, field, who):
    with pytest.raises(Invalid) as caught:
        adjust_ledger(debtor, amount=amount, reason=reason, actor=staff[who])
    assert caught.value.field == field
    db.session.rollback()
    assert count() == 1


def test_the_balance_is_the_sum_of_the_entries(debtor, staff):
    record_payment(debtor, amount=1234, actor=staff["receptionist"])
    adjust_ledger(debtor, amount=-66, reason="x", actor=staff["manager"])
    db.session.commit()
    signed = case((LedgerEntry.type == "credit", LedgerEntry.amount), else_=-LedgerEntry.amount)
    total = db.session.scalar(select(func.sum(signed)).where(LedgerEntry.customer_id == debtor.id))
    assert fresh(debtor).ledger_balance == total == -3832
    assert ledger_entries(debtor)[-1].balance_after == total


def test_entries_by_local_date_range(business, debtor, staff):
    """Days are the business's (London, summer time): 23:30 UTC on 1 July is 2 July there."""
    record_payment(debtor, amount=100, actor=staff["receptionist"])
    db.session.commit()
    first, second = ledger_entries(debtor)
    first.created_at = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 on 1 July in London
    second.created_at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London
    db.session.commit()
    assert [e.id for e in ledger_entries(debtor, start=date(2026, 7, 2))] == [second.id]
    assert [e.id for e in ledger_entries(debtor, end=date(2026, 7, 1))] == [first.id]
    assert len(ledger_entries(debtor, start=date(2026, 7, 1), end=date(2026, 7, 2))) == 2
    assert ledger_entries(debtor, start=date(2026, 7, 3)) == []
    assert len(ledger_entries(debtor, end=date.max)) == 2
