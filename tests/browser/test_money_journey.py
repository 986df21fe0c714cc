"""Journeys: the owner sets up a stamp card; a receptionist records a sale, sees the points, redeems
them, stamps the card to a reward, redeems it and scans the card's QR link back to the customer — axe
on every screen, plain and after each htmx swap; and the same forms with JavaScript turned off."""

import re

from playwright.sync_api import expect

from browser_support import assert_accessible, htmx_loaded, sign_in_browser, wait_htmx_idle
from helpers import PASSWORD
from webapp.extensions import db
from webapp.loyalty.programs import create_program


def spent(amount: str) -> str:
    """The profile's "Total spent" with its count of one sale (the count's word is the panel's)."""
    return rf"£{re.escape(amount)} · 1 (order|purchase)"


def money_panel(page):
    return page.locator("#money")


def cards_panel(page):
    return page.locator("#loyalty-cards")


def panel_row(panel, term: str) -> str:
    """The text a details list shows for `term` ("Points" → "45 (worth £4.50)")."""
    return panel.locator(f"xpath=.//dt[normalize-space()='{term}']/following-sibling::dd[1]").inner_text()


def test_sale_points_redeem_stamps_reward_then_scan_back(desk, make_user, make_customer):
    owner = make_user("owner", name="Olive Owner")
    receptionist = make_user("receptionist", name="Rita")
    maya = make_customer(first_name="Maya", last_name="Patel", phone="+447400123456")

    # The owner: the loyalty rate (defaults kept: 1 point per £1, a point worth £0.10) and a stamp card.
    sign_in_browser(desk, owner.email, PASSWORD)
    desk.goto(desk.base + "/settings/loyalty")
    assert htmx_loaded(desk)
    assert desk.get_by_label("Points per unit").input_value() == "1"
    assert desk.get_by_label("Point value").input_value() == "0.10"
    assert_accessible(desk, "loyalty settings")
    desk.get_by_label("Point value").fill("ten pence")
    desk.get_by_role("button", name="Save loyalty settings").click()
    desk.locator(".form-errors").wait_for()
    wait_htmx_idle(desk)
    assert_accessible(desk, "loyalty settings with an error (htmx swap)")
    desk.get_by_label("Point value").fill("0.10")
    desk.get_by_label("Point value").press("Enter")
    desk.get_by_text("Loyalty settings saved.").wait_for()

    desk.goto(desk.base + "/settings/cards")
    assert desk.get_by_text("No stamp cards yet.").is_visible()
    assert_accessible(desk, "stamp-card settings")
    desk.get_by_label("Name").fill("Blow-dry card")
    desk.get_by_label("Stamps needed").fill("3")
    desk.get_by_label("Reward").fill("Free blow-dry")
    desk.get_by_label("Welcome stamps").fill("1")
    assert desk.get_by_label("Active").is_checked()
    desk.get_by_role("button", name="Add stamp card").click()
    desk.get_by_text("The Blow-dry card was added.").wait_for()
    row = desk.get_by_role("row").filter(has_text="Blow-dry card")
    assert "Free blow-dry" in row.inner_text() and "Active" in row.inner_text()
    assert_accessible(desk, "stamp-card settings with a program")
    desk.get_by_role("button", name="Sign out").click()
    desk.wait_for_url("**/login**")

    # The receptionist finds Maya with the keyboard and opens her profile.
    sign_in_browser(desk, receptionist.email, PASSWORD)
    assert desk.evaluate("document.activeElement.id") == "q"
    desk.keyboard.type("Maya", delay=20)
    expect(desk.locator("[data-result]")).to_have_count(1)
    desk.keyboard.press("ArrowDown")
    desk.keyboard.press("Enter")
    desk.wait_for_url(f"**/customers/{maya.id}")
    money = money_panel(desk)
    assert panel_row(money, "Points") == "0"
    assert panel_row(money, "Total spent").startswith("£0.00")
    assert money.get_by_text("No purchases yet.").is_visible()
    assert cards_panel(desk).get_by_text("No stamp card yet.").is_visible()
    assert_accessible(desk, "profile with empty money and card panels")

    # A sale of £45.00: typed straight into the focused Total, sent with Enter.
    money.get_by_role("link", name="Record sale").click()
    desk.wait_for_url(f"**/customers/{maya.id}/sales/new")
    assert desk.get_by_role("heading", name="Record a sale: Maya Patel").is_visible()
    assert desk.evaluate("document.activeElement.name") == "total"
    assert_accessible(desk, "sale form")
    desk.keyboard.type("45.999")
    desk.keyboard.press("Enter")
    desk.locator("#total-error").wait_for()
    wait_htmx_idle(desk)
    assert desk.get_by_label("Total").get_attribute("aria-invalid") == "true"
    assert_accessible(desk, "sale form with an error (htmx swap)")
    desk.get_by_label("Total").fill("45.00")
    desk.get_by_label("What was sold (optional)").fill("Cut and colour")
    desk.get_by_label("What was sold (optional)").press("Enter")
    desk.wait_for_url(f"**/customers/{maya.id}")
    flash = desk.locator("#flashes")
    assert re.search(r"Sale REC-\d{8}-\d{3} of £45\.00 recorded, 45 points earned\.", flash.inner_text())
    money = money_panel(desk)
    assert panel_row(money, "Points") == "45 (worth £4.50)"
    assert re.fullmatch(spent("45.00"), panel_row(money, "Total spent"))
    purchase = money.get_by_role("listitem").first
    assert re.search(r"REC-\d{8}-\d{3}", purchase.inner_text()) and "£45.00" in purchase.inner_text()
    assert_accessible(desk, "profile after the sale")

    # All purchases, then redeem 20 points.
    money.get_by_role("link", name="All purchases").click()
    desk.wait_for_url(f"**/customers/{maya.id}/sales")
    assert desk.get_by_text(re.compile(r"Total spent £45\.00 over 1 (order|purchase)\b")).is_visible()
    assert desk.get_by_role("cell", name="Cut and colour").is_visible()
    assert_accessible(desk, "purchases list")
    desk.get_by_role("link", name="Back to profile").click()
    desk.wait_for_url(f"**/customers/{maya.id}")

    money_panel(desk).get_by_role("link", name="Redeem points").click()
    desk.wait_for_url(f"**/customers/{maya.id}/points/redeem")
    assert desk.get_by_role("heading", name="45 points, worth £4.50").is_visible()
    assert desk.get_by_text("Each point takes £0.10 off.").is_visible()
    assert desk.get_by_role("cell", name="Earned").is_visible()
    assert desk.evaluate("document.activeElement.name") == "points"
    assert_accessible(desk, "redeem form")
    desk.keyboard.type("50")
    desk.keyboard.press("Enter")
    desk.locator("#points-error").wait_for()
    wait_htmx_idle(desk)
    assert desk.locator("#points-error").inner_text() == "Maya has only 45 points."
    assert_accessible(desk, "redeem form refusing too many points (htmx swap)")
    desk.get_by_label("Points", exact=True).fill("20")
    desk.get_by_label("Points", exact=True).press("Enter")
    desk.wait_for_url(f"**/customers/{maya.id}")
    assert desk.get_by_text("20 points redeemed: take £2.00 off. 25 points left.").is_visible()
    assert panel_row(money_panel(desk), "Points") == "25 (worth £2.50)"
    assert re.fullmatch(spent("45.00"), panel_row(money_panel(desk), "Total spent"))

    # The store-credit ledger and the payment form (nothing owed: a sale paid now writes no entry).
    money_panel(desk).get_by_role("link", name="Ledger").click()
    desk.wait_for_url(f"**/customers/{maya.id}/ledger")
    assert desk.get_by_text("Nothing owed.").is_visible()
    assert_accessible(desk, "ledger page")
    desk.get_by_role("link", name="Record payment").click()
    desk.wait_for_url(f"**/customers/{maya.id}/ledger/payment")
    assert desk.get_by_role("heading", name="Store credit £0.00").is_visible()
    assert_accessible(desk, "payment form")
    desk.keyboard.type("abc")
    desk.keyboard.press("Enter")
    desk.locator("#amount-error").wait_for()
    wait_htmx_idle(desk)
    assert_accessible(desk, "payment form with an error (htmx swap)")
    desk.get_by_label("Amount").fill("10.00")
    desk.get_by_label("Reference (optional)").fill("SLIP-7")
    desk.get_by_label("Reference (optional)").press("Enter")
    desk.wait_for_url(f"**/customers/{maya.id}/ledger")
    assert desk.get_by_text("Payment of £10.00 recorded. In credit £10.00.").is_visible()
    entry = desk.get_by_role("row").filter(has_text="SLIP-7").inner_text()
    assert "Payment" in entry and entry.count("£10.00") == 2, entry  # the credit and the balance after
    desk.get_by_label("From").fill("2000-01-02")
    desk.get_by_label("To").fill("2000-01-01")
    desk.get_by_role("button", name="Show").click()
    desk.get_by_text("The end of the range is before its start.").first.wait_for()
    wait_htmx_idle(desk)
    assert_accessible(desk, "ledger page with a bad range (htmx swap)")
    desk.get_by_role("link", name="Back to profile").click()
    desk.wait_for_url(f"**/customers/{maya.id}")

    # Enrol in the card (1 welcome stamp), stamp it full from the keyboard, redeem, stamps carried over.
    cards = cards_panel(desk)
    assert "Blow-dry card (3 stamps: Free blow-dry)" in cards.get_by_label("Enrol in a card").inner_text()
    cards.get_by_role("button", name="Enrol").click()
    cards = cards_panel(desk)
    cards.get_by_text("Maya Patel now has a Blow-dry card (1 of 3 stamps).").wait_for()
    wait_htmx_idle(desk)
    assert cards.get_by_text("1 of 3", exact=True).is_visible()
    assert cards.get_by_text("Reward: Free blow-dry").is_visible()
    assert cards.get_by_role("img", name=re.compile("QR code of card")).is_visible()
    assert_accessible(desk, "profile with a new card (htmx swap)")

    desk.get_by_role("button", name="Add stamp to the Blow-dry card").focus()
    desk.keyboard.press("Enter")
    cards_panel(desk).get_by_text("Stamped: 2 of 3 on the Blow-dry card.").wait_for()
    wait_htmx_idle(desk)
    # The stamp button keeps the focus across the swap: Enter again stamps again.
    assert desk.evaluate("document.activeElement.textContent") == "Add stamp to the Blow-dry card"
    desk.keyboard.press("Enter")
    cards_panel(desk).get_by_text("Stamped: 3 of 3 on the Blow-dry card. Reward ready!").wait_for()
    wait_htmx_idle(desk)
    cards = cards_panel(desk)
    assert cards.get_by_text("Reward ready: Free blow-dry").is_visible()
    # One more stamp than needed, through "Add several stamps".
    cards.get_by_text("Add several stamps").click()
    cards.get_by_label("Stamps", exact=True).fill("1")
    cards.get_by_label("Stamps", exact=True).press("Enter")
    cards_panel(desk).get_by_text("Stamped: 4 of 3 on the Blow-dry card. Reward ready!").wait_for()
    wait_htmx_idle(desk)
    assert desk.evaluate("document.activeElement.name") == "count"  # still in the open "several" form
    assert_accessible(desk, "profile with a full card (htmx swap)")

    cards_panel(desk).get_by_role("button", name=re.compile(r"^Redeem reward\W+Free blow-dry$")).click()
    cards = cards_panel(desk)
    cards.get_by_text("Reward redeemed: Free blow-dry. The card now has 1 of 3 stamps.").wait_for()
    wait_htmx_idle(desk)
    assert cards.get_by_text("1 of 3", exact=True).is_visible()
    assert "1 redeemed" in cards.inner_text()
    assert not cards.get_by_text("Reward ready").count()
    assert not cards.get_by_role("button", name=re.compile("Redeem reward")).count()
    assert_accessible(desk, "profile after the reward (htmx swap)")

    # Too many stamps at once: the browser refuses the range; sent anyway, the server refuses it in the panel.
    cards.get_by_text("Add several stamps").click()
    count = cards.get_by_label("Stamps", exact=True)
    count.fill("1000000")
    count.press("Enter")
    assert count.evaluate("e => e.validity.rangeOverflow")
    assert cards.get_by_text("1 of 3", exact=True).is_visible()
    count.evaluate("e => { e.form.noValidate = true; }")  # a browser that does not check the range
    count.press("Enter")
    alert = cards_panel(desk).get_by_role("alert")
    alert.wait_for()
    wait_htmx_idle(desk)
    assert alert.inner_text() == "Add between 1 and 100 stamps at a time."
    assert cards_panel(desk).get_by_label("Stamps", exact=True).is_visible()  # the form stays open to retry
    assert cards_panel(desk).get_by_text("1 of 3", exact=True).is_visible()
    assert_accessible(desk, "card panel refusing a stamp count (htmx swap)")

    # The same state after a reload, and the history says what happened.
    desk.reload()
    cards = cards_panel(desk)
    assert cards.get_by_text("1 of 3", exact=True).is_visible()
    assert panel_row(money_panel(desk), "Points") == "25 (worth £2.50)"
    history = desk.locator("#history").inner_text()
    assert "Card reward redeemed" in history and "Enrolled in a stamp card" in history
    assert_accessible(desk, "profile with the money and card panels")

    # The printable card, its code read from the page; the QR's link lands back on the profile.
    code = cards.locator(".card-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z-]{6,16}", code), code
    cards.get_by_role("link", name=re.compile("Print card")).click()
    desk.wait_for_url(f"**/customers/{maya.id}/cards/*/print")
    printed = desk.get_by_role("article", name="Blow-dry card of Maya Patel")
    assert printed.get_by_text(code).is_visible()
    assert printed.get_by_text("3 stamps: Free blow-dry").is_visible()
    assert printed.get_by_role("img", name=f"QR code of card {code}").is_visible()
    assert_accessible(desk, "printable card")

    desk.goto(f"{desk.base}/cards/{code}")
    desk.wait_for_url(f"**/customers/{maya.id}#loyalty-cards")
    assert desk.get_by_role("heading", name="Maya Patel").is_visible()
    assert cards_panel(desk).get_by_text(code).is_visible()

    # A code with one character changed is refused, not matched to someone else.
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    response = desk.goto(f"{desk.base}/cards/{wrong}")
    assert response.status == 404
    assert desk.get_by_role("heading", name="No card with this code").is_visible()
    assert desk.get_by_text("check character does not match").is_visible()
    assert_accessible(desk, "no card with this code")

    # The code typed into the customer search finds her too.
    desk.get_by_label("Search for the code or the customer").fill(code)
    desk.get_by_role("button", name="Search").click()
    desk.wait_for_url("**/customers?q=*")
    expect(desk.locator("[data-result]")).to_have_count(1)
    assert desk.locator("[data-result]").first.inner_text().startswith("Maya Patel")
    desk.locator("[data-result]").first.click()
    desk.wait_for_url(f"**/customers/{maya.id}")
    errors = [e for e in desk.js_errors if "status of 422" not in e and "status of 404" not in e]
    assert not errors, errors


def test_sale_and_stamp_work_without_javascript(
    browser, live_server, app, make_user, make_customer, business
):
    receptionist = make_user("receptionist", name="Rita")
    owner = make_user("owner")
    create_program(
        business,
        name="Coffee",
        stamps_required=2,
        reward="Free coffee",
        welcome_stamps=0,
        stamp_on_complete=False,
        active=True,
        actor=owner,
    )
    db.session.commit()
    ben = make_customer(first_name="Ben", last_name="Okafor")

    context = browser.new_context(java_script_enabled=False)
    context.route(app.config["HTMX_URL"], lambda route: route.abort())  # never the real CDN
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    try:
        sign_in_browser(page, receptionist.email, PASSWORD)
        page.goto(f"{page.base}/customers/{ben.id}")
        assert not htmx_loaded(page)  # the page's own scripts do not run
        page.locator("#money").get_by_role("link", name="Record sale").click()
        page.wait_for_url(f"**/customers/{ben.id}/sales/new")
        page.get_by_label("Total").fill("12.345")
        page.get_by_role("button", name="Record sale").click()
        assert (
            page.locator("#total-error").inner_text() == "Use at most 2 decimal places (12.50, not 12.345)."
        )
        assert page.get_by_text("Please correct the problem below.").is_visible()
        page.get_by_label("Total").fill("19.50")
        page.get_by_label("Receipt number").fill("TILL-0001")
        page.get_by_label("On account").check()
        page.get_by_role("button", name="Record sale").click()
        page.wait_for_url(f"**/customers/{ben.id}")
        assert page.get_by_text(
            "Sale TILL-0001 of £19.50 recorded, on account, 19 points earned."
        ).is_visible()
        money = page.locator("#money")
        assert panel_row(money, "Points") == "19 (worth £1.90)"
        assert re.fullmatch(spent("19.50"), panel_row(money, "Total spent"))
        assert page.get_by_text("Owes £19.50").first.is_visible()

        page.locator("#loyalty-cards").get_by_role("button", name="Enrol").click()
        page.wait_for_url(f"**/customers/{ben.id}#loyalty-cards")
        expect(page.get_by_text("Ben Okafor now has a Coffee card (0 of 2 stamps).")).to_be_visible()
        for stamps, ready in (("1 of 2", ""), ("2 of 2", " Reward ready!")):
            page.get_by_role("button", name="Add stamp to the Coffee").click()
            page.wait_for_url(f"**/customers/{ben.id}#loyalty-cards")
            expect(page.get_by_text(f"Stamped: {stamps} on the Coffee card.{ready}")).to_be_visible()
        page.get_by_role("button", name=re.compile(r"^Redeem reward\W+Free coffee$")).click()
        page.wait_for_url(f"**/customers/{ben.id}#loyalty-cards")
        expect(
            page.get_by_text("Reward redeemed: Free coffee. The card now has 0 of 2 stamps.")
        ).to_be_visible()
        expect(page.locator("#loyalty-cards").get_by_text("0 of 2", exact=True)).to_be_visible()
        assert "1 redeemed" in page.locator("#loyalty-cards").inner_text()
    finally:
        context.close()
