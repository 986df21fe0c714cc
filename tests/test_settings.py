"""Owner settings: business details, locations, staff; their rules and their tenancy."""

import pytest

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models import AuditEvent, Business, Location, StaffUser
from webapp.settings import services


def test_owner_updates_business_details(login_as, business):
    owner = login_as("owner")
    r = owner.post(
        "/settings",
        data={
            "name": "Salon Nova",
            "timezone": "Australia/Sydney",
            "phone_region": "au",
            "currency": "aud",
            "points_per_unit": 2,  # not this page's field (the loyalty rate is under /settings/loyalty)
        },
    )
    assert r.status_code == 303
    b = db.session.get(Business, business.id)
    assert (b.name, b.timezone, b.phone_region, b.currency, b.points_per_unit) == (
        "Salon Nova",
        "Australia/Sydney",
        "AU",
        "AUD",
        1,
    )
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "business.updated"))
    assert event.changes["timezone"] == ["Europe/London", "Australia/Sydney"]


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("timezone", "Mars/Olympus", "Choose a timezone"),
        ("phone_region", "ZZ", "two-letter country code"),
        ("currency", "ABC", "three-letter currency code"),
        ("name", "", "Give the business a name"),
    ],
)
def test_bad_business_details_are_refused_on_their_field(login_as, business, field, value, message):
    data = {
        "name": "Salon",
        "timezone": "Europe/London",
        "phone_region": "GB",
        "currency": "GBP",
        field: value,
    }
    r = login_as("owner").post("/settings", data=data)
    assert r.status_code == 422 and message in r.text
    assert db.session.get(Business, business.id).name == "Test Salon"


def test_locations_add_rename_deactivate(login_as, business, location):
    owner = login_as("owner")
    assert owner.post("/settings/locations", data={"name": "Harbour St"}).status_code == 303
    assert owner.post("/settings/locations", data={"name": "harbour st"}).status_code == 422
    new = db.session.scalar(db.select(Location).where(Location.name == "Harbour St"))
    assert owner.post(f"/settings/locations/{new.id}", data={"name": "Harbour Street"}).status_code == 303
    assert db.session.get(Location, new.id).name == "Harbour Street"
    assert owner.post(f"/settings/locations/{new.id}/deactivate").status_code == 303
    assert db.session.get(Location, new.id).active is False
    # The last active location stays.
    owner.post(f"/settings/locations/{location.id}/deactivate")
    assert db.session.get(Location, location.id).active is True


def test_another_business_rows_are_404(login_as, make_business):
    other = make_business("Other Salon")
    other_loc = db.session.scalar(db.select(Location).where(Location.business_id == other.id))
    intruder = login_as("owner")
    assert intruder.post(f"/settings/locations/{other_loc.id}", data={"name": "Mine"}).status_code == 404
    assert intruder.post(f"/settings/locations/{other_loc.id}/deactivate").status_code == 404
    other_user = StaffUser(business_id=other.id, email="x@other.test", password_hash="x", role="owner")
    db.session.add(other_user)
    db.session.commit()
    assert intruder.post(f"/settings/staff/{other_user.id}", data={"role": "receptionist"}).status_code == 404
    assert db.session.get(Location, other_loc.id).name == "Main"
    assert "Other Salon" not in intruder.get("/settings/locations").text


def test_owner_adds_staff_who_must_choose_a_password(app, login_as):
    owner = login_as("owner")
    r = owner.post(
        "/settings/staff",
        data={"name": "Nia", "email": "Nia@Example.com", "role": "manager", "password": "first password 1"},
    )
    assert r.status_code == 303
    nia = db.session.scalar(db.select(StaffUser).where(StaffUser.email == "nia@example.com"))
    assert nia.role == "manager" and nia.must_change_password
    assert nia.password_hash.startswith("$argon2id$")
    r = owner.post(
        "/settings/staff",
        data={"name": "Dup", "email": "nia@example.com", "role": "manager", "password": "first password 1"},
    )
    assert r.status_code == 422 and "be used for a new colleague" in r.text


def test_role_change_ends_sessions_and_last_owner_stays(login_as, make_user):
    owner = login_as("owner")
    r = owner.post(f"/settings/staff/{owner.user.id}", data={"role": "manager", "active": "y"})
    assert r.status_code == 303
    assert db.session.get(StaffUser, owner.user.id).role == "owner"
    colleague = make_user("receptionist")
    version = colleague.session_version
    owner.post(f"/settings/staff/{colleague.id}", data={"role": "manager", "active": "y"})
    changed = db.session.get(StaffUser, colleague.id)
    assert changed.role == "manager" and changed.session_version == version + 1


def test_service_rules(business, make_user):
    owner = make_user("owner")
    with pytest.raises(Invalid) as e:
        services.create_staff(
            business, email="a@b.test", name="A", role="boss", password="long enough 1", actor=owner
        )
    assert e.value.field == "role"
    with pytest.raises(Invalid) as e:
        services.create_staff(
            business, email="a@b.test", name="A", role="manager", password="short", actor=owner
        )
    assert e.value.field == "password"
    with pytest.raises(Invalid):
        services.create_business("Test Salon")


def test_switch_location(login_as, business, location):
    other = Location(business_id=business.id, name="Annex")
    db.session.add(other)
    db.session.commit()
    user = login_as("receptionist")
    assert (
        user.post("/account/location", data={"location_id": other.id, "next": "/settings"}).status_code == 303
    )
    assert db.session.get(StaffUser, user.user.id).current_location_id == other.id
    user.post("/account/location", data={"location_id": 999999})
    assert db.session.get(StaffUser, user.user.id).current_location_id == other.id
