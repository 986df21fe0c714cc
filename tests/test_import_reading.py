"""Reading import files (encodings, delimiters, quoting, limits), guessing columns, reading values."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from webapp.errors import Invalid
from webapp.imports import reading
from webapp.imports.mapping import FIELDS, check_mapping, guess_mapping
from webapp.imports.rows import clean_phone, parse_date, parse_datetime, split_full_name, split_tags

TODAY = date(2026, 12, 3)


def rows_of(data: bytes):
    info = reading.inspect(data)
    return info, list(reading.rows(data, info.encoding, info.delimiter))


def refused(data: bytes, max_bytes=reading.DEFAULT_MAX_BYTES) -> str:
    with pytest.raises(Invalid) as e:
        reading.inspect(data, max_bytes)
    assert e.value.field == "file"
    return e.value.message


# --- encodings, delimiters, quoting ----------------------------------------------------------------


def test_utf8_with_a_byte_order_mark_and_semicolons():
    info, rows = rows_of("\ufeffVorname;Nachname;E-Mail\nJürgen;Groß;j@example.com\n".encode())
    assert info.encoding == "utf-8-sig" and info.delimiter == ";"
    assert info.headers == ["Vorname", "Nachname", "E-Mail"]  # no BOM left on the first header
    assert rows == [(2, ["Jürgen", "Groß", "j@example.com"])]


def test_tabs_and_utf16_as_excel_saves_unicode_text():
    data = "name\temail\r\nZoë Ng\tz@example.com\r\n".encode("utf-16")
    info, rows = rows_of(data)
    assert info.encoding == "utf-16" and info.delimiter == "\t"
    assert rows == [(2, ["Zoë Ng", "z@example.com"])]


def test_windows_1252_fallback():
    data = "first_name,last_name,notes\nRené,Müller,“Likes tea” – 5€\n".encode("cp1252")
    info, rows = rows_of(data)
    assert info.encoding == "cp1252"
    assert rows[0][1] == ["René", "Müller", "“Likes tea” – 5€"]


def test_quoted_fields_with_line_breaks_commas_and_quotes_keep_line_numbers():
    data = b'name,address,notes\n"Smith, Jane","1 High St\nLondon","said ""hi"""\n\n,,\nBob,,\n'
    info, rows = rows_of(data)
    assert info.delimiter == "," and info.total_rows == 2  # blank rows (and all-empty ones) skipped
    assert rows == [(2, ["Smith, Jane", "1 High St\nLondon", 'said "hi"']), (6, ["Bob", "", ""])]


def test_a_semicolon_file_whose_cells_hold_commas_is_still_semicolons():
    data = b"name;notes\nJane;likes a, b, c\nBob;x, y\n"
    assert reading.inspect(data).delimiter == ";"


def test_crlf_and_a_single_column():
    info, rows = rows_of(b"email\r\na@example.com\r\nb@example.com")
    assert info.delimiter == "," and [r[1] for r in rows] == [["a@example.com"], ["b@example.com"]]


# --- bad input: each a clear message ------------------------------------------------------------


def test_binary_files_are_refused():
    assert "not a text file" in refused(b"\x00\x01\x02\x03" * 100)
    assert "Excel .xlsx" in refused(b"PK\x03\x04" + b"\x00" * 100)
    assert "PDF" in refused(b"%PDF-1.7\n...")
    assert "not a text file" in refused(bytes(range(1, 32)) * 50)


def test_empty_and_header_only_files_are_refused():
    assert "empty" in refused(b"")
    assert "empty" in refused(b"\n\r\n  \n")
    assert "header row but no customers" in refused(b"first_name,email\n")
    assert "header row but no customers" in refused(b"first_name,email\n,\n\n")


def test_a_file_over_the_limit_is_refused_saying_both_sizes():
    message = refused(b"a" * (reading.DEFAULT_MAX_BYTES + 1))
    assert "100.0 MB" in message and "limit is 100.0 MB" in message and "import-customers" in message


def test_ten_thousand_columns_are_refused():
    header = ",".join(f"c{i}" for i in range(10_000))
    message = refused(f"{header}\n{',' * 9_999}x\n".encode())
    assert "10,000 columns" in message and "at most 200" in message


def test_a_row_of_one_megabyte_is_refused_naming_its_line():
    big_cell = b"name,notes\nJane,ok\nBob," + b"x" * (1024 * 1024) + b"\n"
    assert refused(big_cell).startswith("Line 3 has a cell over 64 KB")
    wide = (
        b"name,"
        + b",".join(b"c%d" % i for i in range(99))
        + b"\nJane,"
        + b",".join([b"y" * 10_500] * 99)
        + b"\n"
    )
    assert refused(wide).startswith("Line 2 is over 256 KB")


def test_invalid_utf8_that_is_not_windows_1252_either_is_refused():
    message = refused(b"name,email\nJ\x81rgen,j@example.com\n")
    assert "neither UTF-8 nor Windows-1252" in message and "CSV UTF-8" in message


# --- mapping ----------------------------------------------------------------------------------------


def test_guesses_the_source_systems_and_spreadsheet_headers():
    headers = [
        "first_name", "Surname", "E-mail", "Mobile", "dob", "company_name", "labels", "Notes",
        "Address", "Source", "created_at", "custom_field_value", "loyalty_points",
    ]  # fmt: skip
    assert list(guess_mapping(headers).values()) == [
        "first_name", "last_name", "email", "phone", "birthday", "company", "tags", "notes",
        "address", "source", "created_at", "custom_field_value", "ignore",
    ]  # fmt: skip
    assert guess_mapping(["Given name", "Family Name", "Email Address", "Birthday", "Tags"]) == {
        0: "first_name", 1: "last_name", 2: "email", 3: "birthday", 4: "tags",
    }  # fmt: skip
    assert guess_mapping(["Name", "Phone Number", "Phone", "firstName"]) == {
        0: "ignore", 1: "phone", 2: "ignore", 3: "first_name",
    }  # fmt: skip
    assert set(guess_mapping(["x", "full_name", "Street", "City"]).values()) <= set(FIELDS)


def test_a_mapping_with_two_columns_on_one_field_is_refused():
    with pytest.raises(Invalid) as e:
        check_mapping({"0": "email", "1": "email", "2": "first_name"}, 3)
    assert e.value.field == "mapping" and "Columns 1 and 2 are both mapped to “Email”" in e.value.message
    with pytest.raises(Invalid, match="every customer needs a name"):
        check_mapping({0: "email"}, 1)
    with pytest.raises(Invalid, match="Email” or “Phone"):
        check_mapping({0: "first_name"}, 1)
    with pytest.raises(Invalid, match="not a field"):
        check_mapping({0: "first_name", 1: "password"}, 2)
    assert check_mapping({0: "first_name", 1: "address", 2: "address", 3: "phone"}, 5)[4] == "ignore"


# --- values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, month_first, expected",
    [
        ("1985-04-23", False, date(1985, 4, 23)),
        ("1985-04-23T00:00:00", False, date(1985, 4, 23)),
        ("23/04/1985", False, date(1985, 4, 23)),
        ("04/05/1985", False, date(1985, 5, 4)),
        ("04/05/1985", True, date(1985, 4, 5)),
        ("04/23/1985", False, date(1985, 4, 23)),  # unambiguous either way
        ("23.04.85", False, date(1985, 4, 23)),
        ("31155", False, date(1985, 4, 18)),  # an Excel serial date
        ("31155.0", False, date(1985, 4, 18)),
        ("23 Apr 1985", False, date(1985, 4, 23)),
        ("23-apr-85", False, date(1985, 4, 23)),
        ("April 23, 1985", False, date(1985, 4, 23)),
        ("1/2/07", False, date(2007, 2, 1)),
    ],
)
def test_dates_as_spreadsheets_write_them(raw, month_first, expected):
    assert parse_date(raw, month_first, TODAY) == expected


@pytest.mark.parametrize("raw", ["1985", "31/02/1985", "yesterday", "13/13/1985"])
def test_dates_that_are_not(raw):
    with pytest.raises(ValueError):
        parse_date(raw, False, TODAY)


def test_timestamps():
    assert parse_datetime("2021-03-04T05:06:07Z", False, TODAY) == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_datetime("1614834367", False, TODAY) == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_datetime("04/03/2021", False, TODAY) == datetime(2021, 3, 4, tzinfo=UTC)
    assert parse_datetime("44259.5", False, TODAY) == datetime(2021, 3, 4, 12, tzinfo=UTC)


def test_a_time_without_an_offset_is_the_business_s_wall_clock():
    london, kolkata = ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")
    summer = datetime(2022, 10, 1, 17, 24, tzinfo=UTC)  # 18:24 in London (BST)
    assert parse_datetime("2022-10-01 18:24", False, TODAY, london) == summer
    assert parse_datetime("2022-10-01T18:24:00+01:00", False, TODAY, kolkata) == summer  # offset wins
    assert parse_datetime("2022-10-01T17:24:00Z", False, TODAY, kolkata) == summer
    assert parse_datetime("01/10/2022", False, TODAY, kolkata) == datetime(2022, 9, 30, 18, 30, tzinfo=UTC)
    assert parse_datetime("44835.5", False, TODAY, london) == datetime(2022, 10, 1, 11, tzinfo=UTC)
    assert parse_datetime("1664645040", False, TODAY, kolkata) == summer  # Unix time is UTC


@pytest.mark.parametrize(
    "raw",
    ["07400 123456", "+44 7400 123456", "0044 (0)7400-123456", "447400123456", "7400123456", "'07400123456",
     '="07400 123456"', "tel:+447400123456", "(07400) 123.456"],
)  # fmt: skip
def test_phones_in_the_formats_files_hold_are_one_number(raw):
    assert clean_phone(raw, "GB") == "+447400123456"


def test_a_phone_that_is_not_a_number_is_refused_as_the_form_refuses_it():
    with pytest.raises(Invalid):
        clean_phone("123", "GB")
    assert clean_phone("(212) 555-0134", "US") == "+12125550134"


def test_names_and_tags():
    assert split_full_name("Jane Smith") == ("Jane", "Smith")
    assert split_full_name("Smith, Jane") == ("Jane", "Smith")
    assert split_full_name("Dr. Jane van Dyke") == ("Jane", "van Dyke")
    assert split_full_name("Cher") == ("Cher", "")
    assert split_full_name("Mary Ann de la Cruz", "de la Cruz") == ("Mary Ann", "de la Cruz")
    assert split_tags("VIP, allergy; vip | Regular") == ["VIP", "allergy", "Regular"]
    assert split_tags('["VIP", "Nut allergy"]') == ["VIP", "Nut allergy"]
