"""Property: whatever the desk does with a few customers' money — sales paid or on account, voids and
refunds, redemptions, adjustments, payments, stamp cards, merges and their undo — after every step
each stored balance equals the sum of its rows, the last row's balance_after says the same, points
never go below zero and each card's stamps are the sum of its stamp rows."""

import uuid

import pytest
from hypothesis import event as note_event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from money_moves_support import assert_books_balance
from sqlalchemy import delete, select, update

from helpers import run_state_machine
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.loyalty import cards, programs
from webapp.merge import services as merge_services
from webapp.merge.undo import undo_merge
from webapp.models import AuditEvent, Customer, CustomerContactHistory, DuplicateCandidate
from webapp.models.money import (
    CardProgram,
    CardStamp,
    CustomerCard,
    LedgerEntry,
    PointsTransaction,
    ReceiptSequence,
    Sale,
    SaleReversal,
)
from webapp.money import ledger, points, sales
from webapp.money.recount import recount_money

PEOPLE = 3
who = st.integers(0, PEOPLE - 1)
index = st.integers(0, 40)
prices = st.one_of(st.sampled_from([500, 1250, 2999, 4500, 8000]), st.integers(1, 8_000))  # £5 = 5 points
pairs = st.permutations(range(PEOPLE)).map(lambda p: p[:2])  # (duplicate, survivor)
# Children before parents: what a reset between examples empties.
MONEY_ROWS = (CardStamp, CustomerCard, PointsTransaction, LedgerEntry, SaleReversal, Sale, ReceiptSequence)
RESET_FIELDS = ("first_name", "last_name", "email", "email_normalized", "phone", "notes")


@pytest.fixture
def machine_setup(business, make_user, make_customer):
    """Three customers of one business, a manager (who may do everything) and a 4-stamp program."""
    manager = make_user("manager")
    program = programs.create_program(
        business, name="Nail card", stamps_required=4, reward="Free polish", welcome_stamps=1, actor=manager
    )
    db.session.commit()
    people = [make_customer(first_name=f"P{i}") for i in range(PEOPLE)]
    return {
        "manager": manager,
        "program_id": program.id,
        "ids": [c.id for c in people],
        "fields": {c.id: {f: getattr(c, f) for f in RESET_FIELDS} for c in people},
    }


def test_money_balances_always_equal_their_rows(machine_setup, app):
    setup = machine_setup
    actor, ids = setup["manager"], setup["ids"]

    class Money(RuleBasedStateMachine):
        """Random sequences of the desk's money actions, merges and undos."""

        @initialize()
        def start(self):
            db.session.rollback()
            for model in MONEY_ROWS:
                db.session.execute(delete(model))
            for model in (AuditEvent, CustomerContactHistory, DuplicateCandidate):
                db.session.execute(delete(model))
            for cid in ids:
                db.session.execute(
                    update(Customer)
                    .where(Customer.id == cid)
                    .values(
                        merged_into_id=None,
                        merged_at=None,
                        total_spent=0,
                        total_orders=0,
                        points_balance=0,
                        ledger_balance=0,
                        **setup["fields"][cid],
                    )
                    .execution_options(synchronize_session=False)
                )
            db.session.commit()
            db.session.expire_all()
            self.sales = []
            for cid in ids:  # everyone starts with a £20 sale (20 points): merges move something
                self.sales.append(
                    sales.record_sale(db.session.get(Customer, cid), total=2000, actor=actor).id
                )
            db.session.commit()
            self.cards: list = []
            self.merges: list = []  # merge event ids, newest last

        def customer(self, i: int) -> Customer:
            db.session.expire_all()
            return db.session.get(Customer, ids[i])

        def merged(self, c: Customer) -> bool:
            return c.merged_into_id is not None

        def attempt(self, action, allowed) -> bool:
            """Run one service call: commit it, or roll back an Invalid that `allowed()` explains."""
            try:
                action()
            except Invalid as e:
                db.session.rollback()
                assert allowed(), e.message
                return False
            db.session.commit()
            return True

        @rule(i=who, total=prices, on_account=st.booleans())
        def record_sale(self, i, total, on_account):
            c = self.customer(i)
            found = []
            ok = self.attempt(
                lambda: found.append(sales.record_sale(c, total=total, actor=actor, on_account=on_account)),
                lambda: self.merged(c),
            )
            if ok:
                self.sales.append(found[0].id)

        @precondition(lambda self: self.sales)
        @rule(n=index, kind=st.sampled_from(["void", "refund"]))
        def reverse_sale(self, n, kind):
            db.session.expire_all()
            sale = db.session.get(Sale, self.sales[n % len(self.sales)])
            reversed_ = db.session.scalar(select(SaleReversal.id).where(SaleReversal.sale_id == sale.id))
            self.attempt(
                lambda: sales.reverse_sale(sale, kind=kind, reason="Test", actor=actor),
                lambda: reversed_ is not None,
            )

        @rule(i=who, n=st.integers(1, 60))
        def redeem_points(self, i, n):
            c = self.customer(i)
            before = c.points_balance
            ok = self.attempt(
                lambda: points.redeem_points(c, points=n, actor=actor), lambda: self.merged(c) or n > before
            )
            if ok:
                assert self.customer(i).points_balance == before - n

        @rule(i=who)
        def redeem_everything(self, i):
            """ "Use all her points on this visit" (what can make a merge's undo refuse)."""
            c = self.customer(i)
            before = c.points_balance
            self.attempt(
                lambda: points.redeem_points(c, points=before, actor=actor),
                lambda: self.merged(c) or before == 0,
            )

        @rule(i=who, n=st.integers(-80, 80).filter(bool))
        def adjust_points(self, i, n):
            c = self.customer(i)
            before = c.points_balance
            self.attempt(
                lambda: points.adjust_points(c, points=n, reason="Test", actor=actor),
                lambda: self.merged(c) or before + n < 0,
            )

        @rule(i=who, amount=st.integers(1, 30_000))
        def record_payment(self, i, amount):
            c = self.customer(i)
            self.attempt(lambda: ledger.record_payment(c, amount=amount, actor=actor), lambda: self.merged(c))

        @rule(i=who)
        def enrol(self, i):
            c = self.customer(i)
            program = db.session.get(CardProgram, setup["program_id"])
            has = db.session.scalar(
                select(CustomerCard.id).where(
                    CustomerCard.customer_id == c.id, CustomerCard.program_id == program.id
                )
            )
            found = []
            ok = self.attempt(
                lambda: found.append(cards.enrol(c, program, actor=actor)),
                lambda: self.merged(c) or has is not None,
            )
            if ok:
                self.cards.append(found[0].id)

        @precondition(lambda self: self.cards)
        @rule(n=index, count=st.integers(1, 6))
        def add_stamps(self, n, count):
            db.session.expire_all()
            card = db.session.get(CustomerCard, self.cards[n % len(self.cards)])
            owner = db.session.get(Customer, card.customer_id)
            self.attempt(lambda: cards.add_stamps(card, count=count, actor=actor), lambda: self.merged(owner))

        @precondition(lambda self: self.cards)
        @rule(n=index)
        def redeem_reward(self, n):
            db.session.expire_all()
            card = db.session.get(CustomerCard, self.cards[n % len(self.cards)])
            owner = db.session.get(Customer, card.customer_id)
            stamps = card.stamps
            ok = self.attempt(
                lambda: cards.redeem_reward(card, actor=actor), lambda: self.merged(owner) or stamps < 4
            )
            if ok:
                assert db.session.get(CustomerCard, card.id).stamps == stamps - 4

        @rule(pair=pairs)
        def merge(self, pair):
            a, b = pair
            source, target = self.customer(a), self.customer(b)
            together = source.points_balance + target.points_balance
            spent = source.total_spent + target.total_spent
            found = []
            ok = self.attempt(
                lambda: found.append(merge_services.merge_customers(source, target, None, actor)),
                lambda: self.merged(source) or self.merged(target),
            )
            note_event("merge: done" if ok else "merge: refused")
            if ok:
                self.merges.append(found[0].id)
                survivor = self.customer(b)
                assert (survivor.points_balance, survivor.total_spent) == (together, spent)

        @precondition(lambda self: self.merges)
        @rule()
        def survivor_redeems_everything(self):
            """The last merge's survivor spends all its points, the duplicate's too (its undo must refuse)."""
            db.session.expire_all()
            survivor = db.session.get(Customer, db.session.get(AuditEvent, self.merges[-1]).customer_id)
            self.redeem_everything(ids.index(survivor.id))

        @precondition(lambda self: self.merges)
        @rule()
        def undo_last_merge(self):
            db.session.expire_all()
            event = db.session.get(AuditEvent, self.merges[-1])
            target = db.session.get(Customer, event.customer_id)
            together = target.points_balance
            messages = []

            def undo():
                try:
                    undo_merge(event, actor)
                except Invalid as e:
                    messages.append(e.message)
                    raise

            done = self.attempt(undo, lambda: "never goes below zero" in messages[0])
            note_event("undo: done" if done else "undo: refused, points spent")
            if done:
                self.merges.pop()
                source = db.session.get(Customer, uuid.UUID(event.changes["source_id"]))
                target = db.session.get(Customer, event.customer_id)
                assert source.merged_into_id is None
                assert source.points_balance + target.points_balance == together

        @invariant()
        def balances_equal_their_rows(self):
            assert_books_balance(ids)

        @invariant()
        def recount_finds_nothing_wrong(self):
            assert recount_money() == 0
            db.session.rollback()

    run_state_machine(Money, 40 if app.backend == "sqlite" else 20, steps=25)
