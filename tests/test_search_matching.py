"""Search keys and matching: phone digits in any format, names in either order, accents, ranking, filters."""

from datetime import UTC, date, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from webapp.extensions import db
from webapp.models import Customer, CustomerConsent, MarketingPreference
from webapp.models.customer import customer_tag
from webapp.models.search_keys import search_keys
from webapp.phones import national_digits
from webapp.search import listing, ranked, read_criteria, search_criteria
from webapp.search import tiers as matching
from webapp.text import fold


def link_tag(customer, tag):
    """Tag a customer (a link row with its business, as the customer service writes it)."""
    db.session.execute(
        customer_tag.insert().values(business_id=customer.business_id, customer_id=customer.id, tag_id=tag.id)
    )
    db.session.commit()


def names(results):
    return [c.display_name for c in results.customers]


def find(business, **args):
    """Run a search the way the list view does, from query-string values."""
    multi = MultiDict()
    for key, value in args.items():
        for v in value if isinstance(value, list) else [value]:
            multi.add(key, str(v))
    return search_criteria(business, read_criteria(multi, business.timezone))


# --- keys ------------------------------------------------------------------------------------------


def test_fold_removes_accents_case_and_punctuation():
    assert fold("José") == "jose"
    assert fold("  ZOË   O'Brien-Smith ") == "zoe obrien smith"
    assert fold("Straße Øresund Łódź") == "strasse oresund lodz"
    assert fold(None) == ""


def test_national_digits_strips_the_country_code():
    assert national_digits("+61412345678") == "412345678"
    assert national_digits("+447911123456") == "7911123456"
    assert national_digits("+12125550123") == "2125550123"
    assert national_digits(None) is None


def test_search_keys_cover_name_both_ways_phone_email_company():
    keys = search_keys("Zoë", "Ng", "", "zoe@example.com", "+61412345678", "Café Ltd")
    assert keys["search_name"] == "zoe ng"
    assert keys["search_name_rev"] == "ng zoe"
    assert keys["search_phone"] == "412345678"
    assert keys["search_company"] == "cafe ltd"
    assert keys["search_text"] == "zoe ng zoe@example.com cafe ltd 412345678"
    assert search_keys("", "", "Walk-in 14:30", None, None, "")["search_name"] == "walk in 14 30"


def test_the_mapper_event_keeps_keys_in_step_on_insert_and_update(make_customer):
    customer = make_customer(first_name="José", last_name="García", phone="+61412345678")
    assert (customer.search_name, customer.search_phone) == ("jose garcia", "412345678")
    customer.last_name = "Pérez"
    db.session.commit()
    assert db.session.get(Customer, customer.id).search_name_rev == "perez jose"


# --- matching --------------------------------------------------------------------------------------


@pytest.fixture
def book(make_customer):
    """A small book with the cases the desk types."""
    return {
        "john": make_customer(first_name="John", last_name="Smith", phone="+61412345678", email="js@ex.com"),
        "jo": make_customer(first_name="Joanna", last_name="Smithers", phone="+447911123456"),
        "jose": make_customer(first_name="José", last_name="Alvarez", email="jose.alvarez@example.org"),
        "zoe": make_customer(first_name="Zoë", last_name="Ng", company="Blue Fern Studio"),
        "ann": make_customer(first_name="Ann", last_name="Jones", email="annie.jones@mail.test"),
    }


@pytest.mark.parametrize("typed", ["0412 345", "412345", "+61 412 345", "0412-345-678", "(04) 1234 5678"])
def test_phone_digits_in_any_format_find_the_customer(business, book, typed):
    assert names(find(business, q=typed))[0] == "John Smith"


def test_exact_phone_ranks_first(business, book, make_customer):
    make_customer(first_name="Other", last_name="Person", phone="+61412345600")
    found = find(business, q="0412 345 678")
    assert names(found)[0] == "John Smith"
    assert found.ranks[book["john"].id] == matching.EXACT_PHONE


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("jo smi", "John Smith"),
        ("smith jo", "John Smith"),
        ("JOHN SMITH", "John Smith"),
        ("smithers", "Joanna Smithers"),
        ("jose", "José Alvarez"),
        ("JOSÉ", "José Alvarez"),
        ("zoe", "Zoë Ng"),
        ("ng zo", "Zoë Ng"),
        ("js@ex.com", "John Smith"),
        ("annie.jo", "Ann Jones"),
        ("blue fern", "Zoë Ng"),
        ("@mail.test", "Ann Jones"),
        ("varez", "José Alvarez"),
        ("Fern Stu", "Zoë Ng"),
    ],
)
def test_names_emails_companies_and_fragments_match(business, book, typed, expected):
    assert expected in names(find(business, q=typed))


def test_name_prefix_ranks_above_contains_and_first_names_above_last_names(business, make_customer):
    make_customer(first_name="Anna", last_name="Jonsson")  # contains "jon"… as a last-name prefix
    make_customer(first_name="Jonah", last_name="Ray")  # first-name prefix
    make_customer(first_name="Kim", last_name="Lee", email="kim.bjonsen@example.com")  # contains only
    assert names(find(business, q="jon")) == ["Jonah Ray", "Anna Jonsson", "Kim Lee"]


def test_no_match_and_other_businesses_are_not_found(business, book, make_business, make_customer):
    other = make_business("Elsewhere")
    make_customer(business_=other, first_name="John", last_name="Smithson")
    assert names(find(business, q="smithson")) == []
    assert names(find(business, q="xyzzy")) == []


def test_merged_customers_are_hidden(business, book):
    book["jo"].merged_into_id = book["john"].id
    db.session.commit()
    assert "Joanna Smithers" not in names(find(business, q="smi"))
    assert "Joanna Smithers" not in names(find(business))


# --- filters and sorts -----------------------------------------------------------------------------


def test_filters(business, make_customer, make_tag, make_booking, location):
    vip, student = make_tag("VIP"), make_tag("Student")
    a = make_customer(first_name="Ava", date_of_birth=date(1990, 3, 4))
    b = make_customer(first_name="Ben", is_dummy=True, date_of_birth=date(1985, 12, 1))
    link_tag(a, vip)
    link_tag(b, student)
    c = make_customer(first_name="Cai", blacklisted_at=datetime.now(UTC), blacklist_reason="No-shows")
    make_booking(a, days=3)
    make_booking(b, days=-3, status="completed")
    assert names(find(business, tag=vip.id)) == ["Ava Test"]
    assert names(find(business, tag=f"{vip.id},{student.id}")) == ["Ava Test", "Ben Test"]
    assert names(find(business, blacklisted="yes")) == ["Cai Test"]
    assert names(find(business, blacklisted="no")) == ["Ava Test", "Ben Test"]
    assert names(find(business, placeholders="yes")) == ["Ben Test"]
    assert names(find(business, birth_month=[3, 12])) == ["Ava Test", "Ben Test"]
    assert names(find(business, birth_month="mar")) == ["Ava Test"]
    assert names(find(business, upcoming="yes")) == ["Ava Test"]
    assert names(find(business, upcoming="no")) == ["Ben Test", "Cai Test"]
    db.session.execute(
        Customer.__table__.update()
        .where(Customer.id == c.id)
        .values(
            created_at=datetime(2020, 1, 15, 12, tzinfo=UTC), last_visit_at=datetime(2021, 5, 1, tzinfo=UTC)
        )
    )
    db.session.commit()
    assert names(find(business, created_from="2020-01-15", created_to="2020-01-15")) == ["Cai Test"]
    assert names(find(business, created_to="2020-12-31")) == ["Cai Test"]
    assert names(find(business, last_visit_from="2021-01-01", last_visit_to="2021-12-31")) == ["Cai Test"]
    today = date.today().isoformat()
    assert set(names(find(business, updated_from=today))) >= {"Ava Test", "Ben Test"}


def test_location_and_consent_filters(business, location, make_customer, make_business):
    from webapp.models.customer import customer_location

    a = make_customer(first_name="Ava")
    b = make_customer(first_name="Ben")
    db.session.execute(
        customer_location.insert().values(business_id=business.id, customer_id=a.id, location_id=location.id)
    )
    pref = MarketingPreference(business_id=business.id, name="Email offers")
    db.session.add(pref)
    db.session.flush()
    db.session.add_all(
        [
            CustomerConsent(
                customer_id=a.id,
                preference_id=pref.id,
                business_id=business.id,
                opted_in=True,
                changed_at=datetime(2025, 6, 1, tzinfo=UTC),
            ),
            CustomerConsent(customer_id=b.id, preference_id=pref.id, business_id=business.id, opted_in=False),
        ]
    )
    db.session.commit()
    assert names(find(business, location=location.id)) == ["Ava Test"]
    assert names(find(business, consent_preference=pref.id)) == ["Ava Test"]
    assert names(find(business, consent_preference=pref.id, consent="out")) == ["Ben Test"]
    assert names(
        find(business, consent_preference=pref.id, consent_from="2025-05-01", consent_to="2025-06-30")
    ) == ["Ava Test"]
    assert names(find(business, consent_preference=pref.id, consent_from="2025-07-01")) == []


def test_sorts_both_ways_with_never_visited_last_when_descending(business, make_customer):
    rows = [("Cara", 3, 500, None), ("Abe", 1, 900, 2), ("Bo", 2, 100, 1)]
    for first, bookings, spent, visited in rows:
        c = make_customer(first_name=first)
        db.session.execute(
            Customer.__table__.update()
            .where(Customer.id == c.id)
            .values(
                total_bookings=bookings,
                total_spent=spent,
                points_balance=spent // 10,
                last_visit_at=None if visited is None else datetime.now(UTC) - timedelta(days=visited),
            )
        )
    db.session.commit()
    assert names(find(business)) == ["Abe Test", "Bo Test", "Cara Test"]
    assert names(find(business, sort="-name")) == ["Cara Test", "Bo Test", "Abe Test"]
    assert names(find(business, sort="total_bookings")) == ["Abe Test", "Bo Test", "Cara Test"]
    assert names(find(business, sort="-total_spent")) == ["Abe Test", "Cara Test", "Bo Test"]
    assert names(find(business, sort="-points")) == ["Abe Test", "Cara Test", "Bo Test"]
    assert names(find(business, sort="-last_visit")) == ["Bo Test", "Abe Test", "Cara Test"]
    assert names(find(business, sort="last_visit")) == ["Cara Test", "Abe Test", "Bo Test"]
    assert names(find(business, sort="created"))[0] == "Cara Test"
    assert names(find(business, sort="-created"))[0] == "Bo Test"
    assert names(find(business, sort="updated"))[0] == "Cara Test"
    assert names(find(business, q="test", sort="-total_spent")) == ["Abe Test", "Cara Test", "Bo Test"]


def test_pages_and_capped_counts(business, make_customer, monkeypatch):
    for i in range(7):
        make_customer(first_name=f"Pat{i}", last_name="Page")
    first = find(business, limit=3)
    assert (first.count, first.capped, first.has_next) == (7, False, True)
    assert names(find(business, limit=3, page=3)) == ["Pat6 Page"]
    assert find(business, limit=3, page=4).customers == []
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    monkeypatch.setattr(ranked, "SEARCH_CAP", 5)
    capped = find(business, limit=3)
    assert (capped.count, capped.capped, capped.count_label) == (5, True, "5+ customers")
    searched = find(business, q="pat", limit=3)
    assert (searched.capped, searched.has_next) == (True, True)
    assert find(business, q="pat", limit=3, page=9).customers == []


def test_a_wide_date_range_gives_the_same_page_through_the_sort_index(business, make_customer, monkeypatch):
    for first in ("Cy", "Ab", "Bo"):
        make_customer(first_name=first)
    today = date.today().isoformat()
    exact = names(find(business, created_from="2000-01-01", created_to=today, sort="-name"))
    monkeypatch.setattr(listing, "COUNT_CAP", 1)  # capped: the page query walks the name index instead
    steered = find(business, created_from="2000-01-01", created_to=today, sort="-name")
    assert steered.capped and names(steered) == exact == ["Cy Test", "Bo Test", "Ab Test"]


def test_common_link_filters_count_from_the_link_rows(
    business, make_customer, make_tag, location, monkeypatch
):
    from webapp.models.customer import customer_location

    vip = make_tag("VIP")
    for i in range(4):
        c = make_customer(first_name=f"Vi{i}")
        link_tag(c, vip)
        db.session.execute(
            customer_location.insert().values(
                business_id=business.id, customer_id=c.id, location_id=location.id
            )
        )
    make_customer(first_name="Plain")
    db.session.commit()
    monkeypatch.setattr(
        "webapp.search.conditions.RARE_LINKS", 1
    )  # treat the filters as common: EXISTS pages, link counts
    tagged = find(business, tag=vip.id, limit=3)
    assert (tagged.count, tagged.has_next) == (4, True)
    assert find(business, location=location.id, tag=vip.id).count == 4
    assert find(business, location=location.id, placeholders="yes").count == 0


def test_an_international_number_is_anchored_at_its_start(business, book, make_customer):
    """Typed with + or 00 it finds the number and numbers starting so, never one holding those digits
    further in (the country code is not among a customer's national digits anyway)."""
    make_customer(first_name="Inside", last_name="Number", phone="+447961412345")  # "61412345" inside
    for typed in ("+61 412 345 678", "0061 412 345"):
        assert all(tier.rank != matching.CONTAINS for tier in matching.tiers(typed, "GB"))
        assert names(find(business, q=typed)) == ["John Smith"]


def test_the_end_or_middle_of_a_number_is_found_inside_it(business, book):
    found = find(business, q="345 678")
    assert names(found) == ["John Smith"] and found.ranks[book["john"].id] == matching.CONTAINS


def test_national_digits_follow_the_business_region(make_business, make_customer):
    """Italy dials no trunk 0: its landlines keep the 0 ("06 1234" starts +39 06 1234 …), while a
    UK or Australian 0 is only the trunk prefix ("0412 345" starts +61 412 345 …)."""
    rome = make_business("Roma", timezone="Europe/Rome", phone_region="IT", currency="EUR")
    landline = make_customer(business_=rome, first_name="Giulia", last_name="Conti", phone="+390612345678")
    mobile = make_customer(business_=rome, first_name="Luca", last_name="Neri", phone="+393331234567")
    found = find(rome, q="06 1234")
    assert names(found) == ["Giulia Conti"] and found.ranks[landline.id] == matching.PHONE_PREFIX
    found = find(rome, q="333 123 4567")
    assert names(found) == ["Luca Neri"] and found.ranks[mobile.id] == matching.EXACT_PHONE
    assert [t.values[0] for t in matching.tiers("0412 345", "AU")] == ["412345", "0412345"] * 2
    assert [t.values[0] for t in matching.tiers("1234", "US")] == ["1234"] * 3  # maybe a number's end


def test_a_number_typed_with_the_trunk_0_is_a_numbers_start(business, book, make_customer):
    """Six digits or more after a trunk 0 start a number: no contains-match (nobody types "07911 123"
    to find a number holding 7911123 further in). A foreign number that keeps its 0 is still found."""
    rome = make_customer(first_name="Giulia", last_name="Conti", phone="+390612345678")
    assert all(tier.rank != matching.CONTAINS for tier in matching.tiers("07911 123", "GB"))
    assert names(find(business, q="07911 123")) == ["Joanna Smithers"]
    found = find(business, q="06 1234 5678")
    assert names(found) == ["Giulia Conti"] and found.ranks[rome.id] == matching.EXACT_PHONE
    assert any(tier.rank == matching.CONTAINS for tier in matching.tiers("0412", "GB"))  # maybe an end


@pytest.mark.parametrize(
    "typed, inside", [("00000", False), ("999999", False), ("aaaaa", False), ("0000", True)]
)
def test_one_repeated_trigram_is_not_searched_inside_at_length(business, make_customer, typed, inside):
    """ "999999" could only be narrowed by the trigram "999", held by a great many numbers of which next
    to none hold the whole run: no contains-match for it. Four digits ("0000") are a number's end."""
    make_customer(first_name="Round", last_name="Number", phone="+447911220000")
    has_contains = any(tier.rank == matching.CONTAINS for tier in matching.tiers(typed, "GB"))
    assert has_contains is inside
    assert ("Round Number" in names(find(business, q=typed))) is inside


@pytest.mark.parametrize("typed", ["@@@", "a.b", "%%%", "-_-", "' OR 1=1 --"])
def test_punctuation_only_fragments_never_become_a_contains_scan(business, book, typed):
    assert all(tier.rank != matching.CONTAINS for tier in matching.tiers(typed))
    find(business, q=typed)  # and still answers


def test_a_fragment_with_three_letters_in_a_row_is_searched_inside(business, book):
    assert "Ann Jones" in names(find(business, q="nie.jo"))


def test_two_trigram_tiers_keep_their_own_fragments(business, make_customer):
    make_customer(first_name="Ana", last_name="Lopez", email="ana.maria.garza@example.com")
    make_customer(
        first_name="Maria", last_name="Ruiz", email=None, phone="+447911000111", company="Garden Co"
    )
    assert set(names(find(business, q="maria.gar"))) == {"Ana Lopez", "Maria Ruiz"}


def test_stored_numbers_format_as_parsed_ones_in_every_region():
    """`stored_number` builds the number from E.164 digits instead of parsing (half the cost of a
    row's phone): for every region's example numbers of every type, both show the same."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat as F
    from phonenumbers import PhoneNumberType as T

    from webapp.formatting import stored_number

    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.VOIP, T.PERSONAL_NUMBER, T.UAN):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, F.E164)
            parsed, built = phonenumbers.parse(e164, None), stored_number(e164)
            for style in (F.NATIONAL, F.INTERNATIONAL):
                assert phonenumbers.format_number(built, style) == phonenumbers.format_number(
                    parsed, style
                ), e164
                checked += 1
    assert checked > 1500
    assert stored_number("07911 123456") is None  # not E.164 and no region: as before, shown as stored
    for malformed in ("+", "+0044 7911", "+0", "+44abc"):  # never stored, but never a wrong number either
        assert stored_number(malformed) is None
