"""Customer record screens: new, walk-in, edit, inline checks, profile, delete — every route and role."""

import re
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from helpers import HX, HX_BOOSTED
from webapp.bookings.profile import PROFILE_QUERIES
from webapp.customers import services
from webapp.extensions import db
from webapp.models import AuditEvent, Customer, Location, MarketingPreference

XSS = "<script>alert('x')</script>\"&'"


def form(**over):
    base = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "07911 123456",
        "date_of_birth": "",
        "company": "",
        "address": "",
        "notes": "",
        "source": "phone",
        "custom_field_value": "",
        "form_token": uuid.uuid4().hex,
    }
    base.update(over)
    return base


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def only_customer() -> Customer:
    return db.session.scalars(select(Customer)).one()


@pytest.fixture
def desk(login_as):
    return login_as("receptionist")


# --- new -----------------------------------------------------------------------------------------


def test_new_page_fragment_and_boosted(desk):
    page = desk.get("/customers/new")
    assert page.status_code == 200 and b"<h1>New customer" in page.data and b"<html" in page.data
    assert b'name="form_token"' in page.data and b"Walk-in" in page.data
    frag = desk.get("/customers/new", headers=HX)
    assert frag.status_code == 200 and b"<html" not in frag.data and b'id="customer-edit"' in frag.data
    boosted = desk.get("/customers/new", headers=HX_BOOSTED)
    assert b"<html" in boosted.data
    assert "HX-Request" in frag.headers["Vary"]


def test_create_redirects_to_profile(desk):
    r = desk.post("/customers/new", data=form())
    assert r.status_code == 303
    c = only_customer()
    assert r.headers["Location"] == f"/customers/{c.id}"
    assert c.phone == "+447911123456" and c.source == "phone"
    page = desk.get(r.headers["Location"])
    assert b"Customer added: Ada Lovelace." in page.data
    assert b"07911 123456" in page.data  # shown nicely formatted


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("phone", "abc", "not a phone number"),
        ("phone", "0" * 33, "at most 32"),
        ("date_of_birth", "2090-01-01", "cannot be in the future"),
        ("date_of_birth", "1850-01-01", "before 1900"),
        ("date_of_birth", "2001-02-30", "Give a real date"),
        ("notes", "n" * 1001, "at most 1000"),
        ("first_name", "f" * 256, "at most 255"),
        ("email", "not-an-email", "not a valid email"),
        ("first_name", "", "first name"),
    ],
)
def test_bad_input_is_rejected_on_its_field(desk, field, value, message):
    r = desk.post("/customers/new", data=form(**{field: value}))
    assert r.status_code == 422
    html = r.data.decode()
    err = re.search(rf'id="{field}-error">(.*?)</p>', html, re.S)
    assert err and message.lower() in err.group(1).lower(), html[:3000]
    assert 'aria-invalid="true"' in html
    assert count() == 0


def test_no_contact_at_all(desk):
    r = desk.post("/customers/new", data=form(email="", phone=""))
    assert r.status_code == 422 and b"at least one" in r.data and count() == 0


def test_unknown_tag_and_foreign_location_rejected(desk, make_business, make_tag):
    other = make_business("Other place")
    loc = db.session.scalar(select(Location).where(Location.business_id == other.id))
    r = desk.post("/customers/new", data={**form(), "tag_ids": ["424242"]})
    assert r.status_code == 422 and b'id="tag_ids-error"' in r.data
    r = desk.post("/customers/new", data={**form(), "tag_ids": ["nope"]})
    assert r.status_code == 422 and b'id="tag_ids-error"' in r.data
    r = desk.post("/customers/new", data={**form(), "location_ids": [str(loc.id)]})
    assert r.status_code == 422 and b'id="location_ids-error"' in r.data
    assert count() == 0


def test_duplicate_email_names_and_links_the_owner(desk, make_customer):
    existing = make_customer(first_name="Grace", last_name="Hopper", email="grace@example.com")
    r = desk.post("/customers/new", data=form(email="GRACE@example.com", phone=""))
    assert r.status_code == 422
    assert f'<a href="/customers/{existing.id}">Grace Hopper</a> already has this email'.encode() in r.data
    assert count() == 1


def test_duplicate_phone_in_another_format(desk, make_customer):
    existing = make_customer(first_name="Grace", phone="+447911123456")
    r = desk.post("/customers/new", data=form(phone="+44 7911 123456", email=""))
    assert r.status_code == 422
    assert f'href="/customers/{existing.id}"'.encode() in r.data and b"already has this phone" in r.data


def test_similar_name_warns_then_create_anyway(desk, make_customer):
    make_customer(first_name="Zoë", last_name="Ng", email="zoe@example.com", date_of_birth=date(1990, 1, 2))
    data = form(
        first_name="Zoe", last_name="NG", date_of_birth="1990-01-02", email="z2@example.com", phone=""
    )
    r = desk.post("/customers/new", data=data)
    assert r.status_code == 422 and b"Possible duplicate" in r.data and b"Create anyway" in r.data
    assert b"form-errors" not in r.data
    assert count() == 1
    r = desk.post("/customers/new", data={**data, "allow_similar": "1"})
    assert r.status_code == 303 and count() == 2


def test_double_submit_creates_one_customer(desk):
    data = form()
    first = desk.post("/customers/new", data=data)
    second = desk.post("/customers/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count() == 1


def test_double_submit_of_a_walk_in_creates_one(desk):
    data = {"dummy_label": "Walk-in 10:00", "form_token": "tok-walk-in-1"}
    desk.post("/customers/new?walk_in=1", data=data)
    desk.post("/customers/new?walk_in=1", data=data)
    assert count() == 1


def test_simultaneous_double_submit_creates_one(desk, monkeypatch):
    """Two posts of one form racing: the second passes the token check before the first commits,
    then its commit hits the token's primary key and it is sent to the first one's customer."""
    data = {"dummy_label": "Walk-in 10:00", "form_token": "tok-race"}
    assert desk.post("/customers/new?walk_in=1", data=data).status_code == 303
    first = only_customer()
    real, calls = services.customer_for_token, []

    def late(*args):  # the first check sees nothing, as if the other request had not committed yet
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, "customer_for_token", late)
    r = desk.post("/customers/new?walk_in=1", data=data)
    assert r.status_code == 303 and r.headers["Location"] == f"/customers/{first.id}"
    assert count() == 1


def test_create_with_tags_locations_and_consents(desk, business, make_tag, location):
    tag = make_tag("VIP", "gold")
    pref = MarketingPreference(business_id=business.id, name="SMS reminders")
    db.session.add(pref)
    db.session.commit()
    page = desk.get("/customers/new")
    assert b"VIP" in page.data and b"SMS reminders" in page.data
    r = desk.post(
        "/customers/new",
        data={
            **form(),
            "tag_ids": [str(tag.id)],
            "location_ids": [str(location.id)],
            f"consent_{pref.id}": "in",
        },
    )
    assert r.status_code == 303
    c = only_customer()
    assert [t.name for t in c.tags] == ["VIP"] and [x.id for x in c.locations] == [location.id]
    assert c.consents[0].opted_in and c.consents[0].changed_by_id == desk.user.id


# --- walk-ins ------------------------------------------------------------------------------------


def test_walk_in_page_and_create(desk):
    page = desk.get("/customers/new?walk_in=1")
    assert b"New walk-in" in page.data and b'value="Walk-in ' in page.data
    r = desk.post("/customers/new?walk_in=1", data={"dummy_label": "Walk-in 14:30", "form_token": "t1"})
    assert r.status_code == 303
    c = only_customer()
    assert c.is_dummy and c.dummy_label == "Walk-in 14:30" and c.source == "walk-in"
    profile = desk.get(r.headers["Location"])
    assert b"Placeholder" in profile.data and b"Walk-in added" in profile.data


def test_completing_walk_in_via_edit(desk, business):
    c = services.create_walk_in(business, None)
    db.session.commit()
    page = desk.get(f"/customers/{c.id}/edit")
    assert b"make it a full customer" in page.data
    data = form(version=str(c.version), dummy_label=c.dummy_label)
    r = desk.post(f"/customers/{c.id}/edit", data=data)
    assert r.status_code == 303
    db.session.refresh(c)
    assert not c.is_dummy and c.display_name == "Ada Lovelace"


def test_placeholder_label_can_be_edited(desk, business):
    c = services.create_walk_in(business, None, label="Walk-in 09:00")
    db.session.commit()
    r = desk.post(
        f"/customers/{c.id}/edit",
        data=form(version=str(c.version), first_name="", email="", phone="", dummy_label="Red coat"),
    )
    assert r.status_code == 303
    db.session.refresh(c)
    assert c.is_dummy and c.dummy_label == "Red coat"
    r = desk.post(f"/customers/{c.id}/edit", data=form(version=str(c.version), dummy_label="x" * 81))
    assert r.status_code == 422 and b'id="dummy_label-error"' in r.data


def test_walk_in_with_bad_phone(desk):
    r = desk.post("/customers/new?walk_in=1", data={"dummy_label": "W", "phone": "abc", "form_token": "t"})
    assert r.status_code == 422 and b'id="phone-error"' in r.data and count() == 0


# --- edit ----------------------------------------------------------------------------------------


def make_full(business, **over):
    c = services.create_customer(
        business,
        None,
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", **over},
        allow_similar=True,
    )
    db.session.commit()
    return c


def test_edit_page_and_save(desk, business):
    c = make_full(business, phone="+447400123456")
    page = desk.get(f"/customers/{c.id}/edit")
    assert page.status_code == 200 and b'value="ada@example.com"' in page.data
    assert b'value="07400 123456"' in page.data
    assert f'name="version" type="hidden" value="{c.version}"'.encode() in page.data
    r = desk.post(f"/customers/{c.id}/edit", data=form(version=str(c.version), last_name="King", phone=""))
    assert r.status_code == 303
    db.session.refresh(c)
    assert c.last_name == "King"
    profile = desk.get(f"/customers/{c.id}")
    assert b"Edited" in profile.data and b"Lovelace" in profile.data and b"King" in profile.data


def test_edit_stale_version_is_not_applied(desk, business, make_user):
    c = make_full(business)
    opened = c.version
    bea = make_user("receptionist", name="Bea")
    services.update_customer(c, bea, {"notes": "Saved by Bea"}, expected_version=opened)
    db.session.commit()
    r = desk.post(f"/customers/{c.id}/edit", data=form(version=str(opened), notes="Typed by Ann", phone=""))
    assert r.status_code == 409
    html = r.data.decode()
    assert "Bea saved this customer at" in html
    assert "Saved by Bea" in html and "Typed by Ann" in html  # what changed, and what she typed is kept
    assert f'name="version" type="hidden" value="{c.version}"' in html
    db.session.refresh(c)
    assert c.notes == "Saved by Bea"
    r = desk.post(
        f"/customers/{c.id}/edit", data=form(version=str(c.version), notes="Typed by Ann", phone="")
    )
    assert r.status_code == 303


def test_stale_edit_shows_tag_changes(desk, business, make_tag):
    vip, new = make_tag("VIP"), make_tag("New")
    c = make_full(business)
    opened = c.version
    services.update_customer(c, None, {"tag_ids": [vip.id]}, expected_version=opened)
    db.session.commit()
    r = desk.post(
        f"/customers/{c.id}/edit", data={**form(version=str(opened), phone=""), "tag_ids": [str(new.id)]}
    )
    assert r.status_code == 409
    assert re.search(r'<th scope="row">Tags</th><td>VIP</td><td>New</td>', r.data.decode())


def test_edit_rejects_bad_values_and_keeps_record(desk, business):
    c = make_full(business)
    r = desk.post(f"/customers/{c.id}/edit", data=form(version=str(c.version), date_of_birth="2090-01-01"))
    assert r.status_code == 422 and b"future" in r.data
    db.session.refresh(c)
    assert c.date_of_birth is None and c.phone is None


def test_edit_of_other_business_customer_is_404(desk, make_business, make_customer):
    other = make_customer(business_=make_business("Far away"))
    assert desk.get(f"/customers/{other.id}/edit").status_code == 404
    assert desk.post(f"/customers/{other.id}/edit", data=form(version="1")).status_code == 404
    assert desk.get(f"/customers/{other.id}").status_code == 404
    assert desk.get(f"/customers/{uuid.uuid4()}").status_code == 404


# --- inline checks -------------------------------------------------------------------------------


def test_validate_email_duplicate_returns_field_with_link(desk, make_customer):
    existing = make_customer(first_name="Grace", email="grace@example.com")
    r = desk.get("/customers/validate?field=email&email=Grace@Example.com", headers=HX)
    assert r.status_code == 200 and b"<html" not in r.data
    assert b'id="email-field"' in r.data and b'aria-invalid="true"' in r.data
    assert f'href="/customers/{existing.id}"'.encode() in r.data
    own = desk.get(
        f"/customers/validate?field=email&email=grace@example.com&customer_id={existing.id}", headers=HX
    )
    assert b"already has" not in own.data and b'id="email-error"' not in own.data


def test_validate_phone(desk):
    bad = desk.get("/customers/validate?field=phone&phone=abc", headers=HX)
    assert b"not a phone number" in bad.data
    ok = desk.get("/customers/validate?field=phone&phone=%2B44+7911+123456", headers=HX)
    assert b"Valid number: 07911 123456" in ok.data and b'id="phone-error"' not in ok.data
    assert b'value="+44 7911 123456"' in ok.data
    bad_email = desk.get("/customers/validate?field=email&email=nope", headers=HX)
    assert b"not a valid email" in bad_email.data


def test_validate_rejects_other_fields(desk):
    assert desk.get("/customers/validate?field=notes&value=x").status_code == 400


# --- profile -------------------------------------------------------------------------------------


def test_profile_shows_everything(desk, business, make_tag, location):
    tag = make_tag("Allergy", "red")
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(pref)
    db.session.commit()
    c = make_full(
        business,
        phone="07911 123456",
        company="Acme",
        address="1 High St",
        notes="Nut allergy",
        date_of_birth=date(1980, 5, 17),
        tag_ids=[tag.id],
        location_ids=[location.id],
        consents={pref.id: False},
    )
    html = desk.get(f"/customers/{c.id}").data.decode()
    for text in (
        "Ada Lovelace",
        "07911 123456",
        "ada@example.com",
        "17 May 1980",
        "Acme",
        "1 High St",
        "Nut allergy",
        "chip-red",
        "Allergy",
        "Opted out",
        "Email offers",
        "Main",
        "History",
        "Created",
    ):
        assert text in html, text
    assert "Delete" not in html  # receptionists do not see it


def test_profile_badges(desk, business, make_customer):
    from webapp.customers.fields import business_today

    today = business_today(business)
    soon = make_customer(
        date_of_birth=today.replace(year=1990)
        if not (today.month == 2 and today.day == 29)
        else date(1990, 2, 28),
        blacklisted_at=db.func.now(),
        blacklist_reason="Rude <b>x</b>",
        blacklist_level="block",
    )
    html = desk.get(f"/customers/{soon.id}").data.decode()
    assert "Blacklisted" in html and "Rude &lt;b&gt;x&lt;/b&gt;" in html
    assert "Birthday" in html


def test_profile_actions_for_manager(login_as, business):
    c = make_full(business)
    html = login_as("manager").get(f"/customers/{c.id}").data.decode()
    assert f"/customers/{c.id}/delete" in html and f"/customers/{c.id}/edit" in html


def test_profile_history_is_paginated_and_fragment(desk, business):
    c = make_full(business)
    for i in range(25):
        services.update_customer(c, None, {"notes": f"note {i}"}, expected_version=c.version)
        db.session.commit()
    page1 = desk.get(f"/customers/{c.id}").data.decode()
    assert "note 24" in page1 and "history_page=2" in page1
    page2 = desk.get(f"/customers/{c.id}?history_page=2", headers=HX)
    assert page2.status_code == 200 and b"<html" not in page2.data and b"Created" in page2.data
    assert b'id="history-list"' in page2.data


def test_profile_follows_merge_with_303(desk, business, make_customer):
    survivor = make_customer()
    merged = make_customer(merged_into_id=survivor.id, email=None)
    r = desk.get(f"/customers/{merged.id}")
    assert r.status_code == 303 and r.headers["Location"] == f"/customers/{survivor.id}"


def test_profile_query_count_is_constant(desk, business, make_tag, count_queries, location):
    small = make_full(business)
    tags = [make_tag(f"T{i}") for i in range(5)]
    big = make_full(
        business, email="big@example.com", tag_ids=[t.id for t in tags], location_ids=[location.id]
    )
    for i in range(8):
        services.update_customer(big, None, {"notes": f"n{i}"}, expected_version=big.version)
        db.session.commit()
    small_url, big_url = f"/customers/{small.id}", f"/customers/{big.id}"
    desk.get(small_url)  # warm up
    with count_queries() as q1:
        desk.get(small_url)
    with count_queries() as q2:
        desk.get(big_url)
    assert q1.count == q2.count
    # user, customer, its consents, tags and locations, history page, preferences, header locations,
    # plus the bookings section's own fixed set (webapp.bookings.profile.PROFILE_QUERIES), plus one
    # query per feature panel: money's recent purchases and loyalty's cards
    assert q2.count <= 8 + PROFILE_QUERIES + 2, q2.statements


# --- delete --------------------------------------------------------------------------------------


def test_receptionist_cannot_delete(desk, business):
    c = make_full(business)
    assert desk.get(f"/customers/{c.id}/delete").status_code == 403
    assert desk.post(f"/customers/{c.id}/delete").status_code == 403
    assert count() == 1


def test_manager_deletes_customer_without_history(login_as, business):
    c = make_full(business)
    manager = login_as("manager")
    page = manager.get(f"/customers/{c.id}/delete")
    assert b"will be <strong>deleted</strong>" in page.data
    r = manager.post(f"/customers/{c.id}/delete")
    assert r.status_code == 303 and r.headers["Location"] == "/customers"
    assert count() == 0
    assert (
        db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()[-1] == "customer.deleted"
    )


def test_owner_anonymizes_customer_with_bookings(login_as, business, make_booking):
    c = make_full(business)
    make_booking(c, days=-2, status="completed")
    owner = login_as("owner")
    page = owner.get(f"/customers/{c.id}/delete")
    assert b"anonymized" in page.data
    r = owner.post(f"/customers/{c.id}/delete")
    assert r.status_code == 303 and r.headers["Location"] == f"/customers/{c.id}"
    html = owner.get(r.headers["Location"]).data.decode()
    assert "Anonymized customer" in html and "ada@example.com" not in html and "Lovelace" not in html


def test_delete_other_business_is_404(login_as, make_business, make_customer):
    other = make_customer(business_=make_business("Else"))
    assert login_as("manager").post(f"/customers/{other.id}/delete").status_code == 404
    assert count() == 1


# --- bad input: escaped everywhere, names round-trip ---------------------------------------------


def test_markup_in_every_field_is_stored_as_typed_and_escaped(desk, business):
    data = form(
        first_name=XSS,
        last_name="<b>bold</b>",
        company=XSS,
        address=XSS,
        notes=XSS,
        custom_field_value=XSS,
    )
    r = desk.post("/customers/new", data=data)
    assert r.status_code == 303
    c = only_customer()
    assert c.first_name == XSS and c.notes == XSS  # stored as typed
    for html in (
        desk.get(r.headers["Location"]).data,  # page with flash
        desk.get(f"/customers/{c.id}/edit").data,
        desk.get(f"/customers/{c.id}?history_page=1", headers=HX).data,  # fragment
    ):
        assert b"<script>alert" not in html and b"<b>bold</b>" not in html
        assert b"&lt;script&gt;" in html


def test_markup_in_duplicate_names_and_inline_fragment_is_escaped(desk, make_customer):
    make_customer(first_name=XSS, email="x@example.com")
    r = desk.get("/customers/validate?field=email&email=x@example.com", headers=HX)
    assert b"<script>alert" not in r.data and b"&lt;script&gt;" in r.data
    r = desk.post("/customers/new", data=form(email="x@example.com"))
    assert b"<script>alert" not in r.data


def test_markup_in_invalid_input_is_escaped_in_the_form(desk):
    r = desk.post("/customers/new", data=form(phone="<script>x</script>", email='"><img src=x>'))
    assert r.status_code == 422
    assert b"<script>x" not in r.data and b"<img src=x>" not in r.data


@pytest.mark.parametrize("name", ["José", "Zoë", "O'Brien", "李小龙", "Nguyễn"])
def test_international_names_round_trip(desk, name):
    r = desk.post("/customers/new", data=form(first_name=name, last_name=name))
    assert r.status_code == 303
    c = only_customer()
    assert c.first_name == name
    html = desk.get(r.headers["Location"]).data.decode()
    assert f"<h1>{name.replace(chr(39), '&#39;')} {name.replace(chr(39), '&#39;')}</h1>" in html


def test_very_long_strings_are_refused_not_truncated(desk):
    r = desk.post("/customers/new", data=form(company="c" * 5000, address="a" * 5000))
    assert r.status_code == 422 and count() == 0
    assert b'id="company-error"' in r.data and b'id="address-error"' in r.data


def test_forms_carry_csrf_tokens(csrf_app, desk, business, login_as):
    from helpers import csrf_token_from

    page = desk.get("/customers/new")
    token = csrf_token_from(page.data)
    assert desk.post("/customers/new", data=form()).status_code == 400  # no token: refused
    assert count() == 0
    r = desk.post("/customers/new", data={**form(), "csrf_token": token})
    assert r.status_code == 303
    c = only_customer()
    edit = desk.get(f"/customers/{c.id}/edit")
    r = desk.post(
        f"/customers/{c.id}/edit",
        data={**form(version=str(c.version), notes="csrf ok"), "csrf_token": csrf_token_from(edit.data)},
    )
    assert r.status_code == 303
    manager = login_as("manager")
    confirm = manager.get(f"/customers/{c.id}/delete")
    r = manager.post(f"/customers/{c.id}/delete", data={"csrf_token": csrf_token_from(confirm.data)})
    assert r.status_code == 303 and count() == 0


def test_refused_save_puts_the_cursor_on_the_first_bad_field(desk):
    r = desk.post("/customers/new", data=form(phone="abc"))
    html = r.data.decode()
    assert re.search(r'<input[^>]*autofocus[^>]*id="phone"|<input[^>]*id="phone"[^>]*autofocus', html)
    assert not re.search(
        r'<input[^>]*autofocus[^>]*id="first_name"|<input[^>]*id="first_name"[^>]*autofocus', html
    )


def test_duplicate_placeholder_is_marked(desk, business):
    services.create_walk_in(business, None, {"phone": "07400 555666"}, label="Walk-in 09:15")
    db.session.commit()
    r = desk.post("/customers/new", data=form(phone="07400 555666", email=""))
    assert (
        r.status_code == 422 and b"Walk-in 09:15</a> (walk-in placeholder) already has this phone" in r.data
    )
