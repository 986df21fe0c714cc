"""No 500 for any input: every POST route of the app, sent values no column can hold (a NUL in each field,
JSON bodies of the wrong kind, numbers and dates out of range), answers 4xx and writes nothing."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import String, Text, func, select

from webapp.extensions import db
from webapp.loyalty.cards import add_stamps, enrol
from webapp.loyalty.programs import create_program
from webapp.models import Booking, Customer, Location, MarketingPreference, StaffUser, Tag
from webapp.money.sales import record_sale

NUL = "x\x00y"
# Tables a refused request may still write: the audit trail and sign-in throttling.
UNGUARDED = ("audit", "sign_in", "throttle", "attempt", "device")
DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def world(app, login_as, make_customer, make_booking, make_tag, business, location):
    """An owner's client and one of each row a route acts on."""
    owner = login_as("owner")
    other = login_as("receptionist")
    a, b = make_customer(phone="+447911123456"), make_customer()
    flagged = make_customer(
        blacklisted_at=datetime.now(UTC), blacklist_reason="Rude", blacklist_level="block"
    )
    booking = make_booking(a)
    tag = make_tag("VIP")
    pref = MarketingPreference(business_id=business.id, name="Newsletter")
    db.session.add(pref)
    db.session.commit()
    staff = db.session.get(StaffUser, owner.user.id)
    sale = record_sale(a, total=4500, actor=staff)  # 45 points to redeem, a sale to void
    card_program = create_program(
        business, name="Blow-dry card", stamps_required=2, reward="Blow-dry", actor=staff
    )
    second_program = create_program(
        business, name="Coffee club", stamps_required=5, reward="Coffee", actor=staff
    )
    card = enrol(a, card_program, actor=staff)
    add_stamps(card, count=2, actor=staff)  # a reward ready
    db.session.commit()
    ids = {
        "customer_id": a.id,
        "booking_id": booking.id,
        "user_id": other.user.id,
        "location_id": location.id,
        "tag_id": tag.id,
        "pref_id": pref.id,
        "event_id": 1,
        "key_id": 1,
        "job_id": 1,
        "action": None,
        "sale_id": sale.id,
        "program_id": card_program.id,
        "card_id": card.id,
    }
    return (
        owner,
        ids,
        {
            "a": a,
            "b": b,
            "flagged": flagged,
            "location": location,
            "tag": tag,
            "other": other,
            "second_program": second_program,
        },
    )


def payloads(w) -> dict:
    """Endpoint -> (url arguments, a valid form body): each body is refused only for the bad value."""
    a, b, flagged, loc = w["a"], w["b"], w["flagged"], w["location"]
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    customer = {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann.lee@example.com",
        "phone": "07911 123457",
        "date_of_birth": "1985-04-23",
        "company": "Acme",
        "address": "1 High St",
        "notes": "Likes tea",
        "source": "phone",
        "custom_field_value": "R1",
        "tag_ids": str(w["tag"].id),
        "location_ids": str(loc.id),
        "form_token": "t" * 32,
    }
    return {
        "auth.login": ({}, {"email": "nobody@example.com", "password": "wrong password", "next": "/"}),
        "auth.change_password": ({}, {"current": "wrong", "new": "a new long password", "confirm": "x"}),
        "auth.switch_location": ({}, {"location_id": str(loc.id)}),
        "customers.new": ({}, customer),
        "customers.edit": ({"customer_id": a.id}, {**customer, "version": str(a.version)}),
        "bookings.new": (
            {},
            {
                "customer_id": str(b.id),
                "location_id": str(loc.id),
                "service": "Cut",
                "staff_name": "Amira",
                "day": day,
                "start_time": "10:00",
                "end_time": "11:00",
                "price": "25.00",
                "notes": "n",
            },
        ),
        "bookings.act": ({"action": "cancel"}, {"by": "customer", "next": "/bookings"}),
        "blacklist.blacklist": (
            {"customer_id": b.id},
            {"reason": "Rude", "level": "warn", "expires_on": day, "next": "/"},
        ),
        "blacklist.lift": ({"customer_id": flagged.id}, {"reason": "Apologised", "next": "/"}),
        "blacklist.review": ({"customer_id": flagged.id}, {"note": "Kept", "next": "/"}),
        "merge.dismiss": ({}, {"a": str(a.id), "b": str(b.id)}),
        "merge.merge": (
            {},
            {
                "source": str(b.id),
                "target": str(a.id),
                "source_version": str(b.version),
                "target_version": str(a.version),
                "notes": "join",
                "action": "merge",
            },
        ),
        "picker.override": ({"customer_id": flagged.id}, {"override_reason": "Manager agreed"}),
        "picker.quick_create": ({}, {"first_name": "Bo", "last_name": "Ng", "email": "bo@example.com"}),
        "settings.index": (
            {},
            {"name": "Salon", "timezone": "Europe/London", "phone_region": "GB", "currency": "GBP"},
        ),
        "settings.locations": ({}, {"name": "Second"}),
        "settings.update_location": ({"location_id": loc.id}, {"name": "Renamed"}),
        "settings.staff": (
            {},
            {"name": "Cy", "email": "cy@example.com", "role": "manager", "password": "long enough pass 1"},
        ),
        "settings.change_staff": ({"user_id": w["other"].user.id}, {"role": "manager", "active": "y"}),
        "settings.tags": ({}, {"name": "Gold", "color": "red"}),
        "settings.update_tag_view": ({"tag_id": w["tag"].id}, {"name": "Platinum", "color": "blue"}),
        "settings.preferences": ({}, {"name": "SMS"}),
        "settings.rename_preference_view": ({"pref_id": None}, {"name": "Texts"}),
        "api_keys.index": ({}, {"name": "Till", "access": "read"}),
        "exports.retention": ({}, {"enabled": "y", "years": "3"}),
        "imports.upload": ({}, {"file": (io.BytesIO(IMPORT_CSV), "customers.csv")}),
        "imports.mapping": (
            {"job_id": import_job(w).id},
            {"col_0": "first_name", "col_1": "email", "policy": "skip", "action": "preview"},
        ),
        "money.new_sale": (
            {"customer_id": a.id},
            {"total": "12.50", "receipt_number": "R-1", "description": "Shampoo", "on_account": "y"},
        ),
        "money.reverse": ({"customer_id": a.id}, {"kind": "void", "reason": "Typed twice"}),
        "money.redeem": ({"customer_id": a.id}, {"points": "10"}),
        "money.adjust_points": ({"customer_id": a.id}, {"points": "5", "reason": "Goodwill"}),
        "money.payment": ({"customer_id": a.id}, {"amount": "10.00", "reference": "Cash"}),
        "money.adjust_ledger": ({"customer_id": a.id}, {"amount": "-5.00", "reason": "Old tab"}),
        "money.loyalty": ({}, {"points_per_unit": "2", "point_value": "0.05"}),
        "loyalty.programs_index": (
            {},
            {"name": "Nails card", "stamps_required": "6", "reward": "Free manicure", "welcome_stamps": "1"},
        ),
        "loyalty.program_edit": (
            {},
            {"name": "Blow-dry club", "stamps_required": "3", "reward": "Blow-dry", "welcome_stamps": "0"},
        ),
        "loyalty.enrol": ({"customer_id": a.id}, {"program_id": str(w["second_program"].id)}),
        "loyalty.stamp": ({"customer_id": a.id}, {"count": "1"}),
    }


IMPORT_CSV = b"First name,Email\nAnn,ann.import@example.com\n"


def import_job(w):
    """An uploaded import at its mapping step (one per test)."""
    if "import_job" not in w:
        from webapp.imports import services

        staff = db.session.get(StaffUser, w["other"].user.id)
        w["import_job"] = services.upload(staff.business, staff, "customers.csv", IMPORT_CSV)
        db.session.commit()
    return w["import_job"]


# Values a form reads but never stores (a redirect target, a button's name): a NUL there is ignored
# (`safe_next` refuses control characters) and the action may go ahead; nothing with a NUL is written.
NOT_STORED = {"next", "action", "allow_similar", "source", "target", "a", "b"}

OUT_OF_RANGE = {
    "bookings.new": [
        ("day", "9999-12-31"),
        ("day", "0001-01-01"),
        ("price", "1e400"),
        ("price", "Infinity"),
        ("price", "-Infinity"),
        ("price", "NaN"),
        ("price", "99999999999"),
        ("location_id", "99999999999999999999"),
        ("customer_id", "99999999999999999999"),
    ],
    "customers.new": [
        ("tag_ids", "99999999999999999999"),
        ("location_ids", "99999999999999999999"),
        ("date_of_birth", "0001-01-01"),
        ("date_of_birth", "9999-12-31"),
        ("form_token", "t" * 65),
    ],
    "customers.edit": [("version", "abc"), ("version", "99999999999999999999"), ("tag_ids", "-1" + "9" * 20)],
    "blacklist.blacklist": [("expires_on", "9999-12-31"), ("expires_on", "0001-01-01")],
    "merge.merge": [("source_version", "abc"), ("target_version", "99999999999999999999")],
    "auth.switch_location": [("location_id", "99999999999999999999")],
    "money.new_sale": [
        ("total", "-5"),
        ("total", "abc"),
        ("total", "12.345"),
        ("total", "1e9999"),
        ("total", "99999999999999"),
        ("total", "NaN"),
        ("booking_id", "99999999999999999999"),
    ],
    "money.redeem": [("points", "99999999999999999999"), ("points", "0"), ("points", "-1"), ("points", "46")],
    "money.adjust_points": [("points", "99999999999999999999"), ("points", "-999")],
    "money.payment": [("amount", "1e400"), ("amount", "0"), ("amount", "-5")],
    "money.adjust_ledger": [("amount", "99999999999999999999"), ("amount", "0")],
    "money.loyalty": [("points_per_unit", "99999999999999999999"), ("point_value", "1e400")],
    "loyalty.programs_index": [("stamps_required", "99999999999999999999"), ("welcome_stamps", "-1")],
    "loyalty.stamp": [("count", "0"), ("count", "1000000"), ("count", "99999999999999999999")],
    "loyalty.enrol": [("program_id", "99999999999999999999")],
    "exports.retention": [("years", "99999999999999999999"), ("years", "1e400"), ("years", "51")],
}

QUERY_STRINGS = [
    "/bookings?day=9999-12-31",
    "/bookings?day=0001-01-01",
    "/bookings?day=9999-12-31&part=stats",
    "/customers?page=99999999999999999999",
    "/customers?tag=99999999999999999999",
    "/blacklist?page=99999999999999999999",
    "/duplicates?page=99999999999999999999",
    "/settings/activity?page=99999999999999999999",
    "/picker?override=99999999999999999999",
    "/bookings/new?customer=99999999999999999999&override=99999999999999999999",
    "/customers/validate?field=phone&phone=99999999999999999999999999999999999",
    "/customers/export.csv?page=99999999999999999999&tag=99999999999999999999&created_from=9999-12-31",
    "/settings/retention?years=99999999999999999999",
]


def snapshot() -> dict:
    """Row counts of every table a refused request must leave alone."""
    counts = {}
    for table in db.metadata.sorted_tables:
        if not any(word in table.name for word in UNGUARDED):
            counts[table.name] = db.session.scalar(select(func.count()).select_from(table))
    return counts


def stored_nul() -> list:
    """(table, column) of any text value holding a NUL (SQLite stores one silently)."""
    found = []
    if db.engine.dialect.name != "sqlite":
        return found  # PostgreSQL cannot hold one: the request would have been a 500 (DataError)
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text)):
                hit = db.session.scalar(
                    select(func.count()).select_from(table).where(func.instr(column, func.char(0)) > 0)
                )
                if hit:
                    found.append((table.name, column.name))
    return found


def url_for_rule(app, endpoint: str, args: dict, ids: dict) -> str:
    """The route's URL with the fixture's ids."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {k: (args[k] if args.get(k) is not None else ids.get(k)) for k in rule.arguments}
    if "pref_id" in values:
        values["pref_id"] = db.session.scalar(select(MarketingPreference.id))
    if "action" in rule.arguments and values["action"] is None:
        values["action"] = "retire" if "pref" in endpoint else "deactivate"
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def post_rules(app) -> list[str]:
    """Every endpoint that takes a POST."""
    return sorted({r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods})


ACTION_ONLY = {
    "auth.logout",
    "auth.reset_staff_password",
    "customers.delete",
    "merge.refresh",
    "merge.undo_merge",
    "picker.walk_in",
    "settings.toggle_location",
    "settings.delete_tag_view",
    "settings.toggle_preference",
    "api_keys.revoke",
    "imports.undo",
    "loyalty.redeem",
    "loyalty.send_link",
}
# JSON routes: they read JSON on purpose, and the same bad values are a problem+json 4xx there
# (the money and card endpoints' own bad input is in tests/test_api_money.py and test_api_cards.py).
JSON_ROUTES = {"api.create_customer", "api.upsert_customer"}
MONEY_API = {
    "api.record_sale",
    "api.redeem_points",
    "api.enrol_card",
    "api.stamp_card",
    "api.redeem_card",
}


def test_every_post_route_is_covered(app):
    """A new POST route is added to the payloads above (or to the action-only list)."""
    from flask import Flask

    covered = set(payloads_keys()) | ACTION_ONLY | JSON_ROUTES | MONEY_API
    assert set(post_rules(app)) - covered == set()
    assert isinstance(app, Flask)


def payloads_keys():
    return [
        "auth.login",
        "auth.change_password",
        "auth.switch_location",
        "customers.new",
        "customers.edit",
        "bookings.new",
        "bookings.act",
        "blacklist.blacklist",
        "blacklist.lift",
        "blacklist.review",
        "merge.dismiss",
        "merge.merge",
        "picker.override",
        "picker.quick_create",
        "settings.index",
        "settings.locations",
        "settings.update_location",
        "settings.staff",
        "settings.change_staff",
        "settings.tags",
        "settings.update_tag_view",
        "settings.preferences",
        "settings.rename_preference_view",
        "api_keys.index",
        "exports.retention",
        "imports.upload",
        "imports.mapping",
        "money.new_sale",
        "money.reverse",
        "money.redeem",
        "money.adjust_points",
        "money.payment",
        "money.adjust_ledger",
        "money.loyalty",
        "loyalty.programs_index",
        "loyalty.program_edit",
        "loyalty.enrol",
        "loyalty.stamp",
    ]


# Small action forms that answer a refused post by going back with a message (post/redirect/get).
REDIRECT_WHEN_REFUSED = {
    "merge.merge",  # without both customers it goes back to the duplicates
    "auth.switch_location",
    "bookings.act",
    "blacklist.review",
    "settings.update_location",
    "settings.change_staff",
    "settings.update_tag_view",
    "settings.rename_preference_view",
    "loyalty.enrol",  # the profile's card panel: back to the profile with the message
    "loyalty.stamp",
}


def refused(response, before: dict, endpoint: str = "") -> None:
    """A 4xx (or, for the small action forms, a 303 back), and no row written."""
    allowed = (303,) if endpoint in REDIRECT_WHEN_REFUSED else ()
    assert 400 <= response.status_code < 500 or response.status_code in allowed, response.status_code
    assert snapshot() == before
    assert stored_nul() == []


@pytest.mark.parametrize("endpoint", payloads_keys())
def test_a_nul_in_any_field_is_refused(app, world, endpoint):
    """A NUL in each field, one at a time (the others valid): a message, not a 500, nothing written."""
    client, ids, w = world
    args, body = payloads(w)[endpoint]
    url = url_for_rule(app, endpoint, args, ids)
    client = anonymous_if_login(app, client, endpoint)
    for name in body:
        before = snapshot()
        response = client.post(url, data={**body, name: NUL})
        if name in NOT_STORED:
            assert response.status_code < 500 and stored_nul() == [], (name, response.status_code)
        else:
            refused(response, before, endpoint)
    before = snapshot()
    refused(client.post(url, data={**body, "nul\x00name": "1"}), before)


@pytest.mark.parametrize("endpoint", payloads_keys())
@pytest.mark.parametrize("kind", ["number", "object", "list", "deep", "broken"])
def test_a_json_body_is_refused(app, world, endpoint, kind):
    """JSON is not form data: numbers, objects, deep nesting or broken JSON on a form route are a 4xx."""
    client, ids, w = world
    args, body = payloads(w)[endpoint]
    url = url_for_rule(app, endpoint, args, ids)
    client = anonymous_if_login(app, client, endpoint)
    values = {"number": 5, "object": {"a": 1}, "list": [1, {"b": 2}]}
    raw = {
        "deep": DEEP,
        "broken": '{"email": ',
    }.get(kind) or json.dumps({name: values[kind] for name in body})
    before = snapshot()
    response = client.post(url, data=raw, content_type="application/json")
    refused(response, before, endpoint)


@pytest.mark.parametrize(
    "endpoint,field,value", [(e, f, v) for e, cases in OUT_OF_RANGE.items() for f, v in cases]
)
def test_out_of_range_values_are_refused(app, world, endpoint, field, value):
    """Numbers and dates no column (or calendar) holds are a message on their field."""
    client, ids, w = world
    args, body = payloads(w)[endpoint]
    before = snapshot()
    response = client.post(url_for_rule(app, endpoint, args, ids), data={**body, field: value})
    refused(response, before, endpoint)


@pytest.mark.parametrize("endpoint", sorted(ACTION_ONLY))
def test_action_routes_take_no_bad_input(app, world, endpoint):
    """Routes that are only a button: a JSON body or a NUL in a field name is never a 500."""
    client, ids, _ = world
    url = url_for_rule(app, endpoint, {}, ids)
    assert client.post(url, data=DEEP, content_type="application/json").status_code < 500
    assert client.post(url, data={"nul\x00": "x"}).status_code == 400


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"first_name": "A\x00n", "email": "an@example.com"}),
        json.dumps({"first_name": "Ann", "email": "an\x00@example.com"}),
        json.dumps({"first_name": "Ann", "phone": "07911\x00123456"}),
        json.dumps({"first_name": 5, "email": "an@example.com"}),
        json.dumps({"first_name": {"a": 1}, "email": ["an@example.com"]}),
        json.dumps({"first_name": "Ann", "email": "an@example.com", "tags": [99999999999999999999]}),
        json.dumps({"first_name": "Ann", "email": "an@example.com", "date_of_birth": "9999-12-31"}),
        json.dumps(5),
        DEEP,
        '{"first_name": ',
    ],
)
def test_the_api_refuses_bad_json(app, world, raw):
    """The JSON API takes the same values as the forms: what no column holds is a 4xx, not a 500."""
    client, _, _ = world
    before = snapshot()
    for endpoint in JSON_ROUTES:
        response = client.post(url_for_rule(app, endpoint, {}, {}), data=raw, content_type="application/json")
        refused(response, before)


@pytest.mark.parametrize("path", QUERY_STRINGS)
def test_out_of_range_query_strings_fall_back(world, path):
    """A page, id or day past what a column holds is read as absent (the page answers), not a 500."""
    client, _, _ = world
    assert client.get(path).status_code in (200, 303, 400, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/customers?q=a%00b",
        "/customers/validate?field=email&email=owner%00@example.com",
        "/customers/validate?field=phone&phone=07911%00123456",
        "/bookings?day=2027-01-01%00",
        "/login?next=/%00",
    ],
)
def test_a_nul_in_a_query_string_is_a_400(world, path):
    """The request guard answers a NUL anywhere in the query string with the 400 page."""
    client, _, _ = world
    response = client.get(path)
    assert response.status_code == 400
    assert b"Something in that request was not right" in response.data


def test_a_nul_in_the_sign_in_email_is_refused_before_sign_in(client):
    """The probe's first finding: `email=owner%00@…` on the sign-in form, anonymous."""
    response = client.post("/login", data={"email": "owner\x00@example.com", "password": "x"})
    assert response.status_code == 422
    assert b"control character" in response.data


def test_a_booking_at_the_end_of_time_is_refused(world):
    """A booking on 9999-12-31 23:00 was accepted and then its day page was a 500."""
    client, _, w = world
    _, body = payloads(w)["bookings.new"]
    response = client.post("/bookings/new", data={**body, "day": "9999-12-31", "start_time": "23:00"})
    assert response.status_code == 422
    assert b"Give a date between 1900 and 2200" in response.data
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert client.get("/bookings?day=9999-12-31").status_code == 200


def test_the_customer_form_says_which_field_holds_the_nul(world):
    """The message is on the field: the rest of the form keeps its values."""
    client, _, w = world
    _, body = payloads(w)["customers.new"]
    response = client.post("/customers/new", data={**body, "company": "Ac\x00me"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Remove the control character" in html
    assert 'value="Ann"' in html
    assert (
        db.session.scalar(select(func.count()).select_from(Customer).where(Customer.first_name == "Ann")) == 0
    )


def anonymous_if_login(app, client, endpoint):
    """The sign-in form is tried as an anonymous visitor (the probe's case): before sign-in."""
    return app.test_client() if endpoint == "auth.login" else client


def test_fixture_rows_exist(world):
    """The payloads act on real rows (a refused request is refused for its value, not a 404)."""
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 1
    assert db.session.scalar(select(func.count()).select_from(Location)) >= 1
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 2


def test_the_edge_helpers_bound_what_they_read():
    """`day_arg` keeps days a day page can step from; `int64` keeps what a 64-bit column holds."""
    from datetime import date

    from webapp.edge import day_arg, int64

    assert day_arg("2027-04-23") == date(2027, 4, 23)
    for raw in ("9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01", "2027-4-23", "", None, "x" * 10):
        assert day_arg(raw) is None
    assert int64("9223372036854775807") == 2**63 - 1
    for raw in ("9223372036854775808", "99999999999999999999", "abc", True, "1.5"):
        with pytest.raises(ValueError):
            int64(raw)


def test_a_json_body_never_reaches_a_form(app):
    """The base form reads a JSON body as no data at all, and says why on the form."""
    from webapp.forms import JSON_MESSAGE
    from webapp.settings.forms import LocationForm

    with app.test_request_context("/settings/locations", method="POST", json={"name": {"a": 1}}):
        form = LocationForm()
        assert form.name.data is None
        assert not form.validate()
        assert JSON_MESSAGE in form.form_errors
