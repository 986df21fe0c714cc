"""Money screens: every route × role, page / fragment / boosted, bad input on its field with nothing
written, the profile's money panel and the "Owes" badge."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from helpers import HX, HX_BOOSTED
from webapp.extensions import db
from webapp.models import Business, Customer, LedgerEntry, PointsTransaction, ReceiptSequence, Sale
from webapp.money import ledger, points, sales

ROLES = ("receptionist", "manager", "owner")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def ana(make_customer, manager):
    """Ana: a £200 sale and a £50 sale on account (250 points; owes £50)."""
    customer = make_customer(first_name="Ana", last_name="Lopez")
    sales.record_sale(customer, total=20000, actor=manager, receipt_number="R-1", description="Colour")
    sales.record_sale(customer, total=5000, actor=manager, receipt_number="R-2", on_account=True)
    db.session.commit()
    return customer


def html_of(response) -> str:
    return response.get_data(as_text=True)


# --- who may open what ---------------------------------------------------------------------------

PAGES = [
    ("/customers/{id}/sales/new", "receptionist"),
    ("/customers/{id}/sales", "receptionist"),
    ("/customers/{id}/sales/{sale}/reverse", "manager"),
    ("/customers/{id}/points/redeem", "receptionist"),
    ("/customers/{id}/points/adjust", "manager"),
    ("/customers/{id}/ledger", "receptionist"),
    ("/customers/{id}/ledger/payment", "receptionist"),
    ("/customers/{id}/ledger/adjust", "manager"),
    ("/settings/loyalty", "owner"),
]


@pytest.mark.parametrize(("path", "needs"), PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_routes_by_role(login_as, ana, path, needs, role):
    sale = db.session.scalar(select(Sale.id).where(Sale.receipt_number == "R-1"))
    client = login_as(role)
    r = client.get(path.format(id=ana.id, sale=sale))
    allowed = ROLES.index(role) >= ROLES.index(needs)
    assert r.status_code == (200 if allowed else 403)


def test_signed_out_is_sent_to_sign_in(client, ana):
    r = client.get(f"/customers/{ana.id}/sales/new")
    assert r.status_code in (302, 303) and "/login" in r.headers["Location"]


@pytest.mark.parametrize(
    "path",
    ["/customers/{id}/sales/new", "/customers/{id}/points/redeem", "/customers/{id}/ledger",
     "/customers/{id}/ledger/payment", "/customers/{id}/sales"],
)  # fmt: skip
def test_another_business_customer_is_404(login_as, make_business, make_customer, path):
    stranger = make_customer(business_=make_business("Elsewhere"))
    client = login_as("manager")
    assert client.get(path.format(id=stranger.id)).status_code == 404
    if not path.endswith(("ledger", "sales")):
        assert client.post(path.format(id=stranger.id), data={"total": "5"}).status_code == 404


def test_another_customers_sale_is_404(login_as, ana, make_customer, manager):
    other = make_customer()
    sale = sales.record_sale(other, total=100, actor=manager)
    db.session.commit()
    client = login_as("manager")
    assert client.get(f"/customers/{ana.id}/sales/{sale.id}/reverse").status_code == 404


@pytest.mark.parametrize("headers", [{}, HX, HX_BOOSTED])
@pytest.mark.parametrize(
    ("path", "words"),
    [("/customers/{id}/sales/new", "Receipt number"), ("/customers/{id}/points/redeem", "Points"),
     ("/customers/{id}/ledger/payment", "Amount"), ("/customers/{id}/ledger", "Sale on account")],
)  # fmt: skip
def test_pages_fragments_and_boosted(login_as, ana, path, words, headers):
    r = login_as("receptionist").get(path.format(id=ana.id), headers=headers)
    assert r.status_code == 200 and words in html_of(r)
    assert ("<html" in html_of(r)) == (headers != HX)


def test_a_merged_record_redirects_to_its_survivor(login_as, ana, make_customer):
    gone = make_customer(merged_into_id=ana.id)
    r = login_as("receptionist").get(f"/customers/{gone.id}/sales/new")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/customers/{ana.id}/sales/new")


# --- recording a sale ----------------------------------------------------------------------------


def test_record_a_sale_without_js(login_as, ana):
    client = login_as("receptionist")
    r = client.post(f"/customers/{ana.id}/sales/new", data={"total": "45.99", "receipt_number": ""})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/customers/{ana.id}")
    sale = db.session.scalars(select(Sale).where(Sale.total == 4599)).one()
    assert sale.receipt_number.startswith("REC-") and not sale.on_account and sale.points_earned == 45
    assert fresh(ana).total_spent == 29599
    page = html_of(client.get(r.headers["Location"]))
    assert f"Sale {sale.receipt_number} of £45.99 recorded, 45 points earned." in page


def test_record_a_sale_on_account_with_htmx(login_as, ana):
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/sales/new", data={"total": "£10", "on_account": "y"}, headers=HX
    )
    assert r.status_code == 200 and r.headers["HX-Redirect"].endswith(f"/customers/{ana.id}")
    assert fresh(ana).ledger_balance == -6000


def test_a_sale_for_one_of_the_bookings(login_as, ana, make_booking):
    booking = make_booking(ana, days=-1, price=4500, service="Blow-dry")
    client = login_as("receptionist")
    page = html_of(client.get(f"/customers/{ana.id}/sales/new?booking={booking.id}"))
    assert "Blow-dry" in page and 'value="45.00"' in page
    r = client.post(f"/customers/{ana.id}/sales/new", data={"total": "45", "booking_id": str(booking.id)})
    assert r.status_code == 303
    assert db.session.scalar(select(Sale.booking_id).where(Sale.total == 4500)) == booking.id
    again = client.post(f"/customers/{ana.id}/sales/new", data={"total": "45", "booking_id": str(booking.id)})
    assert again.status_code == 422 and "already has its sale" in html_of(again)
    assert str(booking.id) not in html_of(client.get(f"/customers/{ana.id}/sales/new"))  # paid: not offered


@pytest.mark.parametrize(
    ("total", "words"),
    [("-5", "more than zero"), ("abc", "as a number"), ("12.345", "at most 2 decimal places"),
     ("1e9999", "as a number"), ("99999999999999", "too large"), ("", "Enter an amount")],
)  # fmt: skip
@pytest.mark.parametrize("headers", [{}, HX])
def test_bad_totals_are_messages_on_the_field(login_as, ana, total, words, headers):
    before = (count(Sale), count(ReceiptSequence))
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/sales/new", data={"total": total}, headers=headers
    )
    assert r.status_code == 422
    html = html_of(r)
    assert 'id="total-error"' in html and words in html
    assert ("<html" in html) == (headers != HX)
    assert (count(Sale), count(ReceiptSequence)) == before and fresh(ana).total_spent == 25000


def test_a_receipt_number_already_used(login_as, ana):
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/sales/new", data={"total": "5", "receipt_number": " R-1 "}
    )
    assert r.status_code == 422
    assert 'id="receipt_number-error"' in html_of(r) and "R-1 is already used" in html_of(r)
    assert count(Sale) == 2


def test_a_foreign_booking_id_is_refused(login_as, ana, make_customer, make_booking):
    booking = make_booking(make_customer())
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/sales/new", data={"total": "5", "booking_id": str(booking.id)}
    )
    assert r.status_code == 422 and 'id="booking_id-error"' in html_of(r)
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/sales/new", data={"total": "5", "booking_id": "junk"}
    )
    assert r.status_code == 422 and count(Sale) == 2


def test_no_sale_on_an_anonymized_customer(login_as, make_customer):
    gone = make_customer(anonymized_at=datetime.now(UTC), first_name="", last_name="", email=None)
    client = login_as("receptionist")
    assert "was anonymized" in html_of(client.get(f"/customers/{gone.id}/sales/new"))
    r = client.post(f"/customers/{gone.id}/sales/new", data={"total": "5"})
    assert r.status_code == 422 and 'id="total-error"' in html_of(r) and "anonymized" in html_of(r)
    assert count(Sale) == 0


def test_purchases_list_marks_reversed_sales(login_as, ana, manager):
    first = db.session.scalars(select(Sale).where(Sale.receipt_number == "R-1")).one()
    sales.reverse_sale(first, kind="refund", reason="Unhappy", actor=manager)
    db.session.commit()
    html = html_of(login_as("receptionist").get(f"/customers/{ana.id}/sales"))
    assert "R-1" in html and "Refunded" in html and "On account" in html
    assert "Void or refund" not in html  # a receptionist cannot
    assert "Void or refund" in html_of(login_as("manager").get(f"/customers/{ana.id}/sales"))


# --- void and refund -----------------------------------------------------------------------------


def test_a_manager_refunds_a_sale(login_as, ana):
    sale = db.session.scalars(select(Sale).where(Sale.receipt_number == "R-2")).one()
    client = login_as("manager")
    url = f"/customers/{ana.id}/sales/{sale.id}/reverse"
    r = client.post(url, data={"kind": "refund", "reason": ""})
    assert r.status_code == 422 and 'id="reason-error"' in html_of(r)
    r = client.post(url, data={"kind": "refund", "reason": "Allergic reaction"})
    assert r.status_code == 303
    after = fresh(ana)
    assert (after.total_spent, after.total_orders, after.ledger_balance, after.points_balance) == (
        20000,
        1,
        0,
        200,
    )
    again = client.post(url, data={"kind": "void", "reason": "again"})
    assert again.status_code == 422 and "already refunded" in html_of(again)
    assert "was refunded" in html_of(client.get(url))


def test_a_receptionist_cannot_post_a_reversal(login_as, ana):
    sale = db.session.scalar(select(Sale.id).where(Sale.receipt_number == "R-1"))
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/sales/{sale}/reverse", data={"kind": "void", "reason": "x"}
    )
    assert r.status_code == 403 and fresh(ana).total_orders == 2


# --- points --------------------------------------------------------------------------------------


def test_redeem_points(login_as, ana):
    client = login_as("receptionist")
    page = html_of(client.get(f"/customers/{ana.id}/points/redeem"))
    assert "250 points, worth £25.00" in page
    r = client.post(f"/customers/{ana.id}/points/redeem", data={"points": "150"})
    assert r.status_code == 303
    assert fresh(ana).points_balance == 100
    landing = html_of(client.get(r.headers["Location"]))
    assert "150 points redeemed: take £15.00 off. 100 points left." in landing


def test_redeem_against_a_sale(login_as, ana):
    sale = db.session.scalar(select(Sale.id).where(Sale.receipt_number == "R-1"))
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/points/redeem", data={"points": "10", "sale_id": str(sale)}
    )
    assert r.status_code == 303
    assert (
        db.session.scalar(select(PointsTransaction.sale_id).where(PointsTransaction.kind == "redeem")) == sale
    )


@pytest.mark.parametrize(
    ("typed", "words"),
    [("251", "Ana has only 250 points."), ("0", "at least 1"), ("-1", "at least 1"), ("abc", "whole number"),
     ("", "Enter a number"), ("1.5", "whole number")],
)  # fmt: skip
def test_bad_redemptions_are_messages_on_the_field(login_as, ana, typed, words):
    before = count(PointsTransaction)
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/points/redeem", data={"points": typed}, headers=HX
    )
    assert r.status_code == 422 and 'id="points-error"' in html_of(r) and words in html_of(r)
    assert count(PointsTransaction) == before and fresh(ana).points_balance == 250


def test_a_manager_adjusts_points(login_as, ana):
    client = login_as("manager")
    r = client.post(f"/customers/{ana.id}/points/adjust", data={"points": "-20", "reason": "Duplicate earn"})
    assert r.status_code == 303 and fresh(ana).points_balance == 230
    r = client.post(f"/customers/{ana.id}/points/adjust", data={"points": "-500", "reason": "x"})
    assert r.status_code == 422 and "below zero" in html_of(r)
    r = client.post(f"/customers/{ana.id}/points/adjust", data={"points": "5", "reason": ""})
    assert r.status_code == 422 and 'id="reason-error"' in html_of(r)
    assert fresh(ana).points_balance == 230


def test_a_receptionist_cannot_adjust(login_as, ana):
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/points/adjust", data={"points": "5", "reason": "x"}
    )
    assert r.status_code == 403
    r = login_as("receptionist").post(
        f"/customers/{ana.id}/ledger/adjust", data={"amount": "5", "reason": "x"}
    )
    assert r.status_code == 403
    assert fresh(ana).points_balance == 250 and fresh(ana).ledger_balance == -5000


# --- the ledger ----------------------------------------------------------------------------------


def test_the_ledger_page_with_running_balance_and_range(login_as, ana, manager):
    ledger.record_payment(ana, amount=2000, actor=manager, reference="Card 77")
    db.session.commit()
    client = login_as("receptionist")
    html = html_of(client.get(f"/customers/{ana.id}/ledger"))
    assert "Owes £30.00" in html and "-£50.00" in html and "-£30.00" in html and "Ref. Card 77" in html
    today = datetime.now(UTC).date().isoformat()
    assert "-£30.00" in html_of(client.get(f"/customers/{ana.id}/ledger?from={today}&to={today}"))
    empty = html_of(client.get(f"/customers/{ana.id}/ledger?from=2001-01-01&to=2001-01-31"))
    assert "No entries in these dates." in empty
    bad = html_of(client.get(f"/customers/{ana.id}/ledger?from=yesterday&to=2001-13-01", headers=HX))
    assert "YYYY-MM-DD" in bad and "-£30.00" in bad  # the filter is dropped, the entries still shown
    backwards = html_of(client.get(f"/customers/{ana.id}/ledger?from=2026-02-01&to=2026-01-01"))
    assert "before its start" in backwards


def test_record_a_payment(login_as, ana):
    client = login_as("receptionist")
    page = html_of(client.get(f"/customers/{ana.id}/ledger/payment"))
    assert 'value="50.00"' in page  # what is owed, ready to take
    r = client.post(f"/customers/{ana.id}/ledger/payment", data={"amount": "50.00", "reference": "Cash"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/customers/{ana.id}/ledger")
    assert fresh(ana).ledger_balance == 0
    assert "Payment of £50.00 recorded. Nothing owed." in html_of(client.get(r.headers["Location"]))


@pytest.mark.parametrize(
    ("amount", "words"),
    [("-5", "more than zero"), ("abc", "as a number"), ("12.345", "decimal places"),
     ("1e9999", "as a number"), ("99999999999999", "too large"), ("0", "more than zero")],
)  # fmt: skip
def test_bad_payments_are_messages_on_the_field(login_as, ana, amount, words):
    r = login_as("receptionist").post(f"/customers/{ana.id}/ledger/payment", data={"amount": amount})
    assert r.status_code == 422 and 'id="amount-error"' in html_of(r) and words in html_of(r)
    assert count(LedgerEntry) == 1


def test_a_payment_on_an_anonymized_customer(login_as, ana):
    db.session.execute(
        db.update(Customer).where(Customer.id == ana.id).values(anonymized_at=datetime.now(UTC))
    )
    db.session.commit()
    r = login_as("receptionist").post(f"/customers/{ana.id}/ledger/payment", data={"amount": "10"})
    assert r.status_code == 422 and 'id="amount-error"' in html_of(r) and "anonymized" in html_of(r)
    assert count(LedgerEntry) == 1 and fresh(ana).ledger_balance == -5000


def test_a_manager_adjusts_the_ledger(login_as, ana):
    client = login_as("manager")
    r = client.post(f"/customers/{ana.id}/ledger/adjust", data={"amount": "-2.50", "reason": "Late fee"})
    assert r.status_code == 303 and fresh(ana).ledger_balance == -5250
    r = client.post(f"/customers/{ana.id}/ledger/adjust", data={"amount": "0", "reason": "x"})
    assert r.status_code == 422 and 'id="amount-error"' in html_of(r)


# --- loyalty settings ----------------------------------------------------------------------------


def test_the_owner_sets_the_loyalty_rate(login_as, business):
    client = login_as("owner")
    page = html_of(client.get("/settings/loyalty"))
    assert "Points per unit" in page and "Point value" in page and 'value="0.10"' in page
    r = client.post("/settings/loyalty", data={"points_per_unit": "2", "point_value": "0.05"})
    assert r.status_code == 303
    db.session.expire_all()
    b = db.session.get(Business, business.id)
    assert (b.points_per_unit, b.point_value_minor) == (2, 5)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"points_per_unit": "-1", "point_value": "0.10"}, "points_per_unit"),
     ({"points_per_unit": "abc", "point_value": "0.10"}, "points_per_unit"),
     ({"points_per_unit": "1001", "point_value": "0.10"}, "points_per_unit"),
     ({"points_per_unit": "1", "point_value": "0.001"}, "point_value"),
     ({"points_per_unit": "1", "point_value": "-1"}, "point_value"),
     ({"points_per_unit": "1", "point_value": "5000"}, "point_value")],
)  # fmt: skip
def test_bad_loyalty_settings(login_as, business, data, field):
    r = login_as("owner").post("/settings/loyalty", data=data, headers=HX)
    assert r.status_code == 422 and f'id="{field}-error"' in html_of(r)
    db.session.expire_all()
    b = db.session.get(Business, business.id)
    assert (b.points_per_unit, b.point_value_minor) == (1, 10)


# --- the profile ---------------------------------------------------------------------------------


def test_the_profile_shows_points_credit_and_purchases(login_as, ana):
    html = html_of(login_as("receptionist").get(f"/customers/{ana.id}"))
    assert "Owes £50.00" in html  # the head's badge and the panel
    assert html.count("Owes £50.00") == 2
    assert "(worth £25.00)" in html and "£250.00" in html and "2 purchases" in html
    assert "R-1" in html and "R-2" in html and "On account" in html
    for label in ("Record sale", "Redeem points", "Record payment"):
        assert label in html
    assert "Adjust points" not in html  # a receptionist's profile


def test_the_profile_lists_five_recent_purchases_from_one_query(login_as, ana, manager, count_queries):
    for n in range(6):
        sales.record_sale(ana, total=100 + n, actor=manager, receipt_number=f"X-{n}")
    db.session.commit()
    client = login_as("receptionist")
    html = html_of(client.get(f"/customers/{ana.id}"))
    panel = html[html.index('id="money"') : html.index("</section>", html.index('id="money"'))]
    assert "X-5" in panel and "X-1" in panel and "X-0" not in panel and "R-1" not in panel
    with count_queries() as q:
        client.get(f"/customers/{ana.id}")
    sale_queries = [s for s in q.statements if "FROM sale" in s]
    assert len(sale_queries) == 1


def test_the_profile_marks_reversed_purchases(login_as, ana, manager):
    sale = db.session.scalars(select(Sale).where(Sale.receipt_number == "R-1")).one()
    sales.reverse_sale(sale, kind="void", reason="Wrong customer", actor=manager)
    points.adjust_points(ana, points=5, reason="x", actor=manager)
    db.session.commit()
    html = html_of(login_as("manager").get(f"/customers/{ana.id}"))
    assert "Voided" in html and "Adjust points" in html


def test_no_owes_badge_when_nothing_is_owed(login_as, make_customer):
    html = html_of(login_as("receptionist").get(f"/customers/{make_customer().id}"))
    assert "Owes" not in html and "No purchases yet." in html


# --- the "Owes" badge in lists -------------------------------------------------------------------


def test_the_picker_and_the_search_rows_show_what_is_owed(login_as, ana, make_customer):
    make_customer(first_name="Ana", last_name="Quits")  # owes nothing: no badge
    client = login_as("receptionist")
    picker = html_of(client.get("/picker?q=Ana"))
    assert picker.count("Owes £50.00") == 1
    ana.blacklisted_at, ana.blacklist_reason = datetime.now(UTC), "Unpaid"  # a row with other badges too
    db.session.commit()
    rows = html_of(client.get("/customers?q=Ana", headers=HX))
    assert rows.count("Owes £50.00") == 1 and "Blacklisted" in rows


def test_the_history_names_money_events_and_shows_amounts_in_the_currency(login_as, ana, manager):
    """Sale, payment, redemption and reversal events read as words with £ amounts, ids left out."""
    ledger.record_payment(ana, amount=2000, actor=manager, reference="Cash")
    points.redeem_points(ana, points=30, actor=manager)
    sale = db.session.scalar(select(Sale).where(Sale.receipt_number == "R-1"))
    sales.reverse_sale(sale, kind="refund", reason="Colour faded", actor=manager)
    db.session.commit()
    html = html_of(login_as("receptionist").get(f"/customers/{ana.id}"))
    history = html[html.index('id="history"') :]
    for words in ("Sale recorded", "Payment received", "Points redeemed", "Sale refunded", "Colour faded"):
        assert words in history, words
    assert "£200.00" in history and "£20.00" in history and "£3.00" in history  # 30 points × 10p
    assert "sale.recorded" not in history and str(sale.id) not in history
