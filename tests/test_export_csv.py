"""The customer list as CSV: the list's rows (all of them), spreadsheet-safe cells, streamed in chunks,
audited; the screen's button, the route per role, and `flask export-customers`."""

import csv
import io
import types
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from helpers import HX
from webapp.exports import book, services
from webapp.exports.cells import FORMULA_STARTS, safe_text, unquoted
from webapp.extensions import db
from webapp.models import AuditEvent, Customer
from webapp.search import read_criteria, search_customers

BOM = "\ufeff"


def criteria(business, **args):
    """The list's criteria for a query string given as keyword arguments."""
    return read_criteria(MultiDict(args), business.timezone)


def export(business, actor=None, size=book.CHUNK, **args) -> list[dict]:
    """Run the export service to the end; its rows as dicts (header names as keys)."""
    data = b"".join(services.export_customers_csv(business, criteria(business, **args), actor, size=size))
    db.session.commit()
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


def ids(rows) -> set[str]:
    return {r["ID"] for r in rows}


# --- which customers --------------------------------------------------------------------------------


def test_every_customer_not_one_page(business, make_customer):
    made = {str(make_customer().id) for _ in range(35)}
    assert ids(export(business)) == made  # the list shows 30 a page


def test_filters_select_the_same_customers_as_the_list(business, make_customer, make_tag):
    vip = make_tag("VIP")
    tagged = [make_customer(tags=[vip]) for _ in range(3)]
    make_customer()
    flagged = make_customer(
        blacklisted_at=datetime.now(UTC), blacklist_reason="Rude", blacklist_level="block"
    )
    assert ids(export(business, tag=str(vip.id))) == {str(c.id) for c in tagged}
    assert ids(export(business, blacklisted="yes")) == {str(flagged.id)}
    listed = search_customers(business, "", criteria(business, tag=str(vip.id)), limit=100).customers
    assert ids(export(business, tag=str(vip.id))) == {str(c.id) for c in listed}


def test_a_search_exports_every_match_uncapped(business, make_customer):
    """The screen ranks a search's best 100; the export holds every match."""
    for n in range(104):
        make_customer(first_name=f"Ann{n}", last_name="Zephyrine", email=f"z{n}@example.com")
    make_customer(first_name="Bob", last_name="Other")
    page = search_customers(business, "zephyrine", limit=100)
    assert page.capped and page.count == 100
    rows = export(business, q="zephyrine")
    assert len(rows) == 104 and all(r["Last name"] == "Zephyrine" for r in rows)


@pytest.mark.parametrize(
    "q", ["ann smi", "smith", "ann.smith@example.com", "07400 123456", "+44740012", "acme"]
)
def test_a_search_matches_what_the_list_matches(business, make_customer, q):
    hit = make_customer(first_name="Ann", last_name="Smith", email="ann.smith@example.com",
                        phone="+447400123456", company="Acme Ltd")  # fmt: skip
    make_customer(first_name="Zed", last_name="Other", email="zed@example.com", phone="+447400654321")
    listed = {str(c.id) for c in search_customers(business, q, limit=100).customers}
    assert ids(export(business, q=q)) == listed == {str(hit.id)}


def test_merged_away_left_out_anonymized_kept_without_personal_data(business, make_customer):
    survivor = make_customer(first_name="Sam")
    make_customer(first_name="Gone", merged_into_id=survivor.id, merged_at=datetime.now(UTC))
    wiped = make_customer(first_name="", last_name="", email=None, anonymized_at=datetime.now(UTC),
                          total_bookings=4)  # fmt: skip
    rows = {r["ID"]: r for r in export(business)}
    assert set(rows) == {str(survivor.id), str(wiped.id)}
    assert rows[str(wiped.id)]["First name"] == "" and rows[str(wiped.id)]["Bookings"] == "4"
    assert rows[str(wiped.id)]["Anonymized"] != ""


def test_another_business_is_never_exported(business, make_business, make_customer):
    other = make_business("Elsewhere")
    make_customer(business_=other)
    mine = make_customer()
    assert ids(export(business)) == {str(mine.id)}


# --- the cells --------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_each_formula_start_is_neutralized(business, make_customer, start):
    value = f'{start}HYPERLINK("http://evil.test","x")'
    make_customer(first_name=value, last_name=value, company=value, address=value, notes=value,
                  custom_field_value=value)  # fmt: skip
    (row,) = export(business)
    for column in ("First name", "Last name", "Company", "Address", "Notes", "Custom field"):
        assert row[column] == "'" + value, column
        assert unquoted(row[column]) == value


def test_a_formula_in_a_tag_name_and_blacklist_reason(business, make_customer, make_tag):
    tag = make_tag("=cmd|' /C calc'!A0")
    make_customer(
        tags=[tag], blacklisted_at=datetime.now(UTC), blacklist_reason="@SUM(A1)", blacklist_level="warn"
    )
    (row,) = export(business)
    assert row["Tags"].startswith("'=") and row["Blacklist reason"] == "'@SUM(A1)"
    assert row["Blacklisted"] == "warning"


def test_a_phone_stays_readable(business, make_customer):
    """E.164 starts with "+": it gets the quote like any formula start, every digit kept, and reads back."""
    make_customer(phone="+447400123456")
    (row,) = export(business)
    assert row["Phone"] == "'+447400123456"
    assert unquoted(row["Phone"]) == "+447400123456"
    import phonenumbers

    assert (
        phonenumbers.format_number(
            phonenumbers.parse(row["Phone"], "GB"), phonenumbers.PhoneNumberFormat.E164
        )
        == "+447400123456"
    )


def test_safe_text_leaves_ordinary_text_alone():
    assert safe_text("Ann") == "Ann" and safe_text("") == "" and safe_text(None) == ""
    assert safe_text("a=b") == "a=b" and safe_text("'quoted") == "'quoted"
    assert unquoted("'quoted") == "'quoted"


def test_bom_header_and_values(business, make_customer, make_tag):
    gold, art = make_tag("Gold"), make_tag("Art")
    created = datetime(2026, 7, 1, 11, 30, tzinfo=UTC)  # 12:30 in London (summer time)
    make_customer(first_name="Zoë", last_name="Ørsted", email="zoe@example.com", phone="+447400123456",
                  notes="Line one\nline, two \"quoted\"", tags=[gold, art], total_spent=12345,
                  completed_bookings=3, total_bookings=4, no_shows=1, created_at=created,
                  updated_at=created, source="referral")  # fmt: skip
    data = b"".join(services.export_customers_csv(business, criteria(business), None))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode()[1:]
    header = next(csv.reader(io.StringIO(text)))
    assert header == book.headers("GBP")
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["First name"] == "Zoë" and row["Last name"] == "Ørsted"
    assert row["Notes"] == 'Line one\nline, two "quoted"'
    assert row["Tags"] == "Art, Gold" and row["Locations"] == ""
    assert row["Total spent (GBP)"] == "123.45" and row["Bookings"] == "4" and row["No-shows"] == "1"
    assert row["Created"] == "2026-07-01 12:30" and row["Source"] == "referral"
    assert "\r\n" in text  # RFC 4180 line ends


@pytest.mark.parametrize(
    ("zone", "utc", "local"),
    [
        ("Europe/London", datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "2026-03-29 00:59"),  # before the change
        ("Europe/London", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "2026-03-29 02:00"),  # summer time
        ("Europe/London", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25 01:30"),
        ("Europe/London", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25 01:30"),  # the hour again
        ("Asia/Kolkata", datetime(2026, 1, 1, 20, 45, tzinfo=UTC), "2026-01-02 02:15"),  # +05:30
        ("Asia/Kathmandu", datetime(2026, 1, 1, 20, 15, tzinfo=UTC), "2026-01-02 02:00"),  # +05:45
        ("America/New_York", datetime(2026, 1, 1, 3, 5, tzinfo=UTC), "2025-12-31 22:05"),
    ],
)
def test_times_are_in_the_business_timezone(make_business, make_customer, zone, utc, local):
    b = make_business(f"Zone {zone}", timezone=zone)
    make_customer(business_=b, created_at=utc, updated_at=utc, last_visit_at=utc)
    (row,) = export(b)
    assert row["Created"] == row["Updated"] == row["Last visit"] == local


def test_money_follows_the_currency(make_business, make_customer):
    yen = make_business("Tokyo Cuts", currency="JPY", timezone="Asia/Tokyo")
    make_customer(business_=yen, total_spent=4500)
    (row,) = export(yen)
    assert row["Total spent (JPY)"] == "4500"


# --- streaming, audit -------------------------------------------------------------------------------


def test_streamed_in_chunks_from_one_statement(business, make_customer, count_queries):
    for _ in range(7):
        make_customer()
    gen = services.export_customers_csv(business, criteria(business), None, size=3)
    assert isinstance(gen, types.GeneratorType)
    with count_queries() as q:
        parts = list(gen)
    assert len(parts) == 1 + 3  # the header, then 3 + 3 + 1 rows
    reads = [s for s in q.statements if "tag_list" in s and "FROM customer" in s]
    assert len(reads) == 1  # one streamed SELECT, not one per chunk
    assert len(q.statements) <= 1 + 3 + 2  # plus one locations lookup per chunk and the audit insert


def test_memory_holds_one_chunk(business, make_customer, monkeypatch):
    """The rows reach the writer a chunk at a time: never more than `size` at once."""
    for _ in range(10):
        make_customer()
    seen = []
    real = book.RowWriter.encode
    monkeypatch.setattr(
        book.RowWriter, "encode", lambda self, rows: seen.append(len(rows)) or real(self, rows)
    )
    rows = export(business, size=4)
    assert len(rows) == 10 and seen == [4, 4, 2]


def test_audited_with_filters_and_rows(business, make_customer, make_user, make_tag):
    manager = make_user("manager")
    vip = make_tag("VIP")
    make_customer(tags=[vip])
    make_customer(tags=[vip])
    export(business, actor=manager, tag=str(vip.id), q="customer")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customers.exported"))
    assert event.actor_id == manager.id and event.business_id == business.id
    assert event.changes["rows"] == 2 and event.changes["complete"] is True
    assert event.changes["filters"] == {"tags": [vip.id], "q": "customer"}


def test_a_cancelled_export_is_audited_with_what_went_out(business, make_customer):
    for _ in range(5):
        make_customer()
    gen = services.export_customers_csv(business, criteria(business), None, size=2)
    next(gen), next(gen)  # header and the first two rows
    gen.close()
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customers.exported"))
    assert event.changes["rows"] == 2 and event.changes["complete"] is False


# --- the route and the button -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_managers_and_owners_download(login_as, make_customer, role):
    make_customer(first_name="Ann")
    r = login_as(role).get("/customers/export.csv?q=ann")
    assert r.status_code == 200 and r.is_streamed
    assert r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="customers-')
    assert r.data.startswith(b"\xef\xbb\xbf") and b"Ann" in r.data
    assert (
        db.session.scalar(select(AuditEvent.changes).where(AuditEvent.action == "customers.exported"))["rows"]
        == 1
    )


def test_a_receptionist_is_refused_with_a_clear_message(login_as, make_customer):
    make_customer()
    r = login_as("receptionist").get("/customers/export.csv")
    assert r.status_code == 403
    assert b"Your role does not allow this. Ask a manager or the owner." in r.data
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customers.exported")) is None


def test_a_bad_query_string_still_exports(login_as, make_customer):
    make_customer()
    r = login_as("manager").get("/customers/export.csv?tag=99999999999999999999&created_from=nope&sort=evil")
    assert r.status_code == 200 and len(r.data.decode().splitlines()) == 2


def test_the_list_offers_export_with_its_filters(login_as, make_tag):
    vip = make_tag("VIP")
    manager = login_as("manager")
    page = manager.get(f"/customers?tag={vip.id}&blacklisted=no").data.decode()
    assert f'href="/customers/export.csv?tag={vip.id}&amp;blacklisted=no"' in page
    fragment = manager.get(f"/customers?tag={vip.id}", headers=HX).data.decode()
    assert 'id="export-csv"' in fragment and 'hx-swap-oob="true"' in fragment  # follows the filters
    assert "export.csv" not in login_as("receptionist").get("/customers").data.decode()


def test_the_cli_exports_to_a_file_and_to_stdout(app, business, make_customer, tmp_path):
    for _ in range(3):
        make_customer()
    db.session.commit()
    runner = app.test_cli_runner()
    target = tmp_path / "out.csv"
    r = runner.invoke(args=["export-customers", "--business", "test salon", str(target)])
    assert r.exit_code == 0, r.output
    assert "3 customers exported." in r.stderr
    assert target.read_bytes().startswith(b"\xef\xbb\xbf") and len(target.read_text().splitlines()) == 4
    r = runner.invoke(args=["export-customers", "--business", "Test Salon", "--query", "q=customer1"])
    assert r.exit_code == 0 and "1 customer exported." in r.stderr
    assert r.stdout_bytes.startswith(b"\xef\xbb\xbf") and len(r.stdout.splitlines()) == 2
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customers.exported")).all()
    assert [e.actor_label for e in events] == ["flask export-customers"] * 2


def test_the_cli_refuses_an_unknown_business(app):
    r = app.test_cli_runner().invoke(args=["export-customers", "--business", "Nobody"])
    assert r.exit_code != 0 and "No business called 'Nobody'" in r.output


def test_a_thousand_customers_in_flat_chunks(business, make_customer):
    """Past one chunk of the default size (rows written straight to the table)."""
    now = datetime.now(UTC)
    rows = [
        {"business_id": business.id, "first_name": f"P{n}", "last_name": "Bulk", "updated_at": now,
         "created_at": now - timedelta(days=n)}
        for n in range(2100)
    ]  # fmt: skip
    db.session.execute(Customer.__table__.insert(), [{**r, "id": uuid.uuid4()} for r in rows])
    db.session.commit()
    counter = [0]
    sizes = [
        len(part)
        for part in services.export_customers_csv(business, criteria(business), None, counter=counter)
    ]
    assert counter[0] == 2100 and len(sizes) == 1 + 2
