"""Migration 0014_money: a book that counted spend from completed bookings keeps the same spend, now as
sales (one per completed booking with a price), with its orders counted."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Customer, Location, Sale


def test_completed_priced_bookings_become_their_sales(
    app, business, make_business, make_customer, make_booking
):
    ann, bob = make_customer(first_name="Ann"), make_customer(first_name="Bob")
    elsewhere = make_business("Elsewhere")
    other = make_customer(elsewhere, first_name="Cy")
    their_location = db.session.scalar(select(Location).where(Location.business_id == elsewhere.id))
    done = [
        make_booking(ann, days=-20, status="completed", price=4500, service="Colour"),
        make_booking(ann, days=-10, status="completed", price=2000),
        make_booking(other, days=-5, status="completed", price=999, location_=their_location),
    ]
    make_booking(ann, days=-3, status="completed", price=0)  # free: no sale
    make_booking(bob, days=-2, status="no_show", price=3000)
    make_booking(bob, days=3, price=3000)
    # The stored spend, as the booking counters kept it before this migration.
    for customer, spent in ((ann, 6500), (bob, 0), (other, 999)):
        db.session.execute(update(Customer).where(Customer.id == customer.id).values(total_spent=spent))
    db.session.commit()
    done = [(b.id, b.customer_id, b.business_id, b.price, b.service) for b in done]
    db.session.remove()
    try:
        downgrade(revision="0013_imports")
    finally:
        upgrade()

    sales = {s.booking_id: s for s in db.session.scalars(select(Sale))}
    assert set(sales) == {b[0] for b in done}
    for booking_id, customer_id, business_id, price, service in done:
        sale = sales[booking_id]
        assert (sale.customer_id, sale.business_id, sale.total) == (customer_id, business_id, price)
        assert sale.receipt_number == "BKG-" + booking_id.hex and sale.points_earned == 0
        assert sale.on_account is False and sale.description == service
    totals = {
        c.first_name: (c.total_spent, c.total_orders, c.ledger_balance)
        for c in db.session.scalars(select(Customer))
    }
    assert totals == {"Ann": (6500, 2, 0), "Bob": (0, 0, 0), "Cy": (999, 1, 0)}
