"""The list's address carries only what narrows it (issue 15, item 7): the marketing answer ("consent")
and its dates mean nothing without a preference, so a plain search never adds `&consent=in`."""

from helpers import HX
from webapp.extensions import db
from webapp.models import MarketingPreference

# What the filter form sends for a search with no filter chosen (empty fields and defaults).
FORM = (
    "q=zoe&tag=&location=&blacklisted=&consent_preference=&consent=in&consent_from=&consent_to="
    "&sort=&limit=30"
)


def test_a_plain_search_does_not_carry_the_default_consent(login_as, make_customer):
    client = login_as("receptionist")
    make_customer(first_name="Zoe", last_name="Ng")
    r = client.get(f"/customers?{FORM}", headers=HX)
    assert r.headers["HX-Push-Url"] == "/customers?q=zoe"
    assert "consent=" not in r.get_data(as_text=True)  # nor in its page and sort links


def test_a_chosen_preference_keeps_its_answer_and_dates(login_as, make_customer, business):
    client = login_as("receptionist")
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(pref)
    db.session.commit()
    r = client.get(
        f"/customers?q=zoe&consent_preference={pref.id}&consent=out&consent_from=2026-01-01", headers=HX
    )
    pushed = r.headers["HX-Push-Url"]
    assert f"consent_preference={pref.id}" in pushed and "consent=out" in pushed
    assert "consent_from=2026-01-01" in pushed
