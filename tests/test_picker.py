"""The calendar picker: top 10 with badges, blacklist override, walk-in, quick create, and its JSON twin."""

import json
import re
from datetime import UTC, datetime

from sqlalchemy import select

from helpers import HX
from webapp.extensions import db
from webapp.models import AuditEvent, Customer

PICKER_RESULTS = {**HX, "HX-Target": "picker-results"}


def options(html: str) -> list[str]:
    return re.findall(r'class="picker-option"[^>]*>\s*<strong>([^<]+)</strong>', html)


def test_typing_returns_only_the_options_top_ten(login_as, make_customer):
    for i in range(12):
        make_customer(first_name=f"Sam{i:02d}", last_name="Smith", phone=f"+4479111234{i:02d}")
    client = login_as("receptionist")
    html = client.get("/picker?q=sam", headers=PICKER_RESULTS).get_data(as_text=True)
    assert len(options(html)) == 10 and 'id="picker-q"' not in html
    assert "07911 123400" in html
    whole = client.get("/picker", headers=HX).get_data(as_text=True)
    assert 'id="customer-picker"' in whole and 'id="picker-q"' in whole and "<html" not in whole
    page = client.get("/picker?q=sam").get_data(as_text=True)
    assert "<html" in page and 'id="picker-post"' in page


def test_picking_sets_the_hidden_customer_id_and_fires_an_event(login_as, make_customer):
    customer = make_customer(first_name="Ann", last_name="Lee")
    response = login_as("receptionist").get(f"/picker/choose/{customer.id}", headers=HX)
    html = response.get_data(as_text=True)
    assert f'name="customer_id" value="{customer.id}"' in html
    assert json.loads(response.headers["HX-Trigger"]) == {
        "customer-picked": {"id": str(customer.id), "name": "Ann Lee"}
    }


def test_another_business_customer_is_a_404(login_as, make_customer, make_business):
    stranger = make_customer(business_=make_business("Other"), first_name="Zed")
    assert login_as("receptionist").get(f"/picker/choose/{stranger.id}", headers=HX).status_code == 404


def blocked(make_customer):
    return make_customer(
        first_name="Bad", last_name="Actor", blacklisted_at=datetime.now(UTC), blacklist_reason="Abuse"
    )


def test_a_blacklisted_customer_is_marked_and_not_picked(login_as, make_customer):
    customer = blocked(make_customer)
    client = login_as("receptionist")
    listed = client.get("/picker?q=bad", headers=PICKER_RESULTS).get_data(as_text=True)
    assert ">Blacklisted<" in listed and "Blocked: a manager can override" in listed
    html = client.get(f"/picker/choose/{customer.id}", headers=HX).get_data(as_text=True)
    assert 'name="customer_id"' not in html and "Only a manager can override" in html
    assert (
        client.post(f"/picker/override/{customer.id}", data={"override_reason": "x"}, headers=HX).status_code
        == 403
    )


def test_a_manager_overrides_with_a_reason_and_it_is_audited(login_as, make_customer):
    customer = blocked(make_customer)
    client = login_as("manager")
    html = client.get(f"/picker/choose/{customer.id}", headers=HX).get_data(as_text=True)
    assert "Override and pick" in html and 'name="override_reason"' in html
    missing = client.post(f"/picker/override/{customer.id}", data={"override_reason": " "}, headers=HX)
    assert missing.status_code == 422 and "Say why" in missing.get_data(as_text=True)
    done = client.post(
        f"/picker/override/{customer.id}", data={"override_reason": "Paid the debt"}, headers=HX
    )
    assert done.status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.blacklist_override"))
    assert event.customer_id == customer.id and event.changes == {"reason": "Paid the debt"}
    assert f'name="override_id" value="{event.id}"' in done.get_data(as_text=True)
    assert f'name="customer_id" value="{customer.id}"' in done.get_data(as_text=True)


def test_walk_in_creates_a_placeholder_and_picks_it(login_as):
    response = login_as("receptionist").post("/picker/walk-in", headers=HX)
    assert response.status_code == 201
    walk_in = db.session.scalar(select(Customer))
    assert walk_in.is_dummy and walk_in.dummy_label.startswith("Walk-in")
    assert f'name="customer_id" value="{walk_in.id}"' in response.get_data(as_text=True)
    assert "customer-picked" in response.headers["HX-Trigger"]


def test_quick_create_uses_the_customer_rules(login_as, make_customer):
    make_customer(first_name="Taken", email="taken@example.com")
    client = login_as("receptionist")
    form = client.get("/picker/new", headers={**HX, "HX-Target": "picker-extra"}).get_data(as_text=True)
    assert 'name="first_name"' in form and "<html" not in form
    missing = client.post("/picker/new", data={"first_name": "Nia"}, headers=HX)
    assert missing.status_code == 422 and missing.headers["HX-Retarget"] == "#picker-extra"
    assert 'class="error"' in missing.get_data(as_text=True)
    clash = client.post("/picker/new", data={"first_name": "Nia", "email": "TAKEN@example.com"}, headers=HX)
    assert clash.status_code == 422
    made = client.post("/picker/new", data={"first_name": "Nia", "phone": "07911 123456"}, headers=HX)
    assert made.status_code == 201
    nia = db.session.scalar(select(Customer).where(Customer.first_name == "Nia"))
    assert nia.phone == "+447911123456" and not nia.is_dummy
    assert f'name="customer_id" value="{nia.id}"' in made.get_data(as_text=True)


def test_without_javascript_the_picker_is_a_page_with_real_forms(login_as, make_customer):
    make_customer(first_name="Ann", last_name="Lee")
    client = login_as("receptionist")
    html = client.get("/picker?q=ann").get_data(as_text=True)
    assert 'form="picker-post"' in html and 'formaction="/picker/walk-in"' in html
    made = client.post("/picker/walk-in")
    assert made.status_code in (201, 303)


def test_calendar_customers_json(login_as, make_customer, client):
    make_customer(first_name="Zoë", last_name="Ng", phone="+447911123456", blacklisted_at=datetime.now(UTC))
    api = login_as("receptionist")
    body = api.get("/api/v1/merchant/calendar/customers?q=zoe").get_json()
    assert body["query"] == "zoe"
    [row] = body["customers"]
    assert row["name"] == "Zoë Ng" and row["phone"] == "+447911123456" and row["blacklisted"] is True
    assert api.get("/api/v1/merchant/calendar/customers").get_json()["customers"] == []
    assert client.get("/api/v1/merchant/calendar/customers?q=zoe").status_code == 401


def test_the_picker_reopens_on_the_chosen_customer(login_as, make_customer):
    customer = make_customer(first_name="Ann", last_name="Lee")
    client = login_as("receptionist")
    html = client.get(f"/picker?customer={customer.id}", headers=HX).get_data(as_text=True)
    assert f'name="customer_id" value="{customer.id}"' in html
    assert 'id="picker-q"' in client.get("/picker?customer=not-a-uuid", headers=HX).get_data(as_text=True)


def test_reopening_on_a_blacklisted_customer_needs_the_override(login_as, make_customer):
    customer = blocked(make_customer)
    manager = login_as("manager")
    html = manager.get(f"/picker?customer={customer.id}&override=999", headers=HX).get_data(as_text=True)
    assert 'name="customer_id"' not in html and "blocked from booking" in html
    manager.post(f"/picker/override/{customer.id}", data={"override_reason": "Settled"}, headers=HX)
    event = db.session.scalar(select(AuditEvent))
    html = manager.get(f"/picker?customer={customer.id}&override={event.id}", headers=HX).get_data(
        as_text=True
    )
    assert f'name="customer_id" value="{customer.id}"' in html


# --- the picker's service -----------------------------------------------------------------------


def test_override_service_records_the_reason_and_refuses_without_one(make_user, make_customer):
    import pytest

    from webapp.errors import Invalid, NotFound
    from webapp.picker import services

    manager = make_user("manager")
    customer = make_customer(first_name="Ann", last_name="Lee")
    with pytest.raises(Invalid) as e:
        services.override_blacklist(customer, manager, "   ")
    assert e.value.field == "override_reason" and "Say why" in e.value.message
    event = services.override_blacklist(customer, manager, "  Paid the debt " + "x" * 600)
    assert event.id and event.action == "customer.blacklist_override"
    assert event.changes["reason"].startswith("Paid the debt") and len(event.changes["reason"]) == 500
    assert services.granted_override(customer, event.id) == event.id
    other = make_customer(first_name="Bo", last_name="Ng")
    assert (
        services.granted_override(other, event.id) is None and services.granted_override(other, None) is None
    )
    other.merged_into_id = customer.id
    with pytest.raises(NotFound):
        services.override_blacklist(other, manager, "Settled")
