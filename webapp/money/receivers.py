"""What money does when other features act: a completed booking with a price records its sale; the
profile shows the customer's points, account and recent purchases."""

from webapp import signals
from webapp.extensions import db
from webapp.models import Booking, Customer
from webapp.money.sales import booking_has_sale, record_sale, sales_of

RECENT_PURCHASES = 5
# How the profile's history names money events (customers/_event.html), and how it shows their values:
# amounts in the business's currency, points as counts, ids left out (money/_event_summary.html).
ACTION_LABELS = {
    "sale.recorded": "Sale recorded",
    "sale.voided": "Sale voided",
    "sale.refunded": "Sale refunded",
    "points.redeemed": "Points redeemed",
    "points.adjusted": "Points adjusted",
    "ledger.payment": "Payment received",
    "ledger.adjust": "Account adjusted",
}
AMOUNT_KEYS = ("total", "amount", "discount_amount")
POINTS_KEYS = ("points", "points_earned", "points_clawed_back", "points_not_clawed_back")
HIDDEN_KEYS = ("sale_id", "booking_id", "type", "card_id")  # card events are shown the same way
KEY_LABELS = {
    "receipt_number": "Receipt",
    "total": "Total",
    "amount": "Amount",
    "discount_amount": "Discount",
    "on_account": "On account",
    "points": "Points",
    "points_earned": "Points earned",
    "points_clawed_back": "Points taken back",
    "points_not_clawed_back": "Points already spent",
    "balance_after": "Balance after",
    "reason": "Reason",
    "reference": "Reference",
}


@signals.booking_completed.connect
def record_booking_sale(booking: Booking, actor=None, **_) -> None:
    """The visit's sale: its price, a generated receipt, the service as description (not on account).
    Nothing when it is free, already paid for (a sale recorded against it earlier) or the customer
    was anonymized (no new sales for them)."""
    if booking.price <= 0 or booking_has_sale(booking):
        return
    customer = db.session.get(Customer, booking.customer_id)
    if customer is None or customer.anonymized_at is not None:
        return
    record_sale(
        customer, total=booking.price, actor=actor, booking=booking, description=booking.service[:255]
    )


@signals.profile_shown.connect
def show_money(customer: Customer, **_) -> dict:
    """The profile's money panel: balances from the customer's row, the five latest purchases (one query)."""
    return {
        "money_recent_sales": sales_of(customer, limit=RECENT_PURCHASES),
        "money_history": {
            "labels": ACTION_LABELS,
            "amount_keys": AMOUNT_KEYS,
            "points_keys": POINTS_KEYS,
            "hidden_keys": HIDDEN_KEYS,
            "key_labels": KEY_LABELS,
        },
    }
