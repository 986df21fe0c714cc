"""What money keeps in step when customers move (webapp/money/moves.py does the work).

A merge (the screens' merge and the API's `PUT /customers/transfer`, which is a merge) has already
re-pointed the duplicate's sales, points, ledger entries and cards when `customers_merged` arrives;
its undo has moved the recorded rows back when `merge_undone` arrives. "Transfer bookings only"
(`bookings_transferred`) moves bookings and nothing else, so money has nothing to do then.
"""

from webapp import signals
from webapp.models import Customer
from webapp.money import moves


@signals.customers_merged.connect
def follow_merge(survivor: Customer, source: Customer, actor=None, moved=None, **_) -> None:
    """The survivor's balances become the sums of all its rows, its own and the duplicate's."""
    moves.after_merge(survivor, source, moved, actor)


@signals.merge_undone.connect
def follow_undo(survivor: Customer, source: Customer, actor=None, moved=None, **_) -> None:
    """Both customers' balances follow the rows moved back (refused when points were spent since)."""
    moves.after_undo(survivor, source, moved, actor)


@signals.customer_anonymized.connect
def forget_money_text(customer: Customer, **_) -> None:
    """The amounts stay; the words typed about the person go."""
    moves.forget_money_text(customer)
