"""Every word typed counts (issue 15, item 8): "zz top ltd" found 100+ customers because the two-letter
"zz" was dropped from the contains-match and "top ltd" matched anyone holding "top" and "ltd".

A word too short for the trigram index must start a word of the customer's search text; the long
fragments still narrow through the index, so no scan is added.
"""

import pytest
from werkzeug.datastructures import MultiDict

from webapp.search import read_criteria, search_criteria
from webapp.search import tiers as matching


def names(business, q):
    return [c.display_name for c in search_criteria(business, read_criteria(MultiDict({"q": q}))).customers]


@pytest.fixture
def book(make_customer):
    return {
        "chris": make_customer(first_name="Christopher", last_name="Wood", company="Pickering Ltd"),
        "ann": make_customer(first_name="Ann", last_name="Stopford", company="Stopford Ltd"),
        "li": make_customer(first_name="Li", last_name="Wei", phone="+447400123456"),
        "zed": make_customer(first_name="Zed", last_name="Zhou", company="Laptop Ltd"),
    }


def test_a_short_word_that_matches_nobody_finds_nobody(business, book):
    assert names(business, "top ltd") != []  # the long words alone match several
    assert names(business, "zz top ltd") == []
    assert names(business, "top zz ltd") == []


def test_the_short_word_is_part_of_the_contains_tier(business):
    contains = [t for t in matching.tiers("zz top ltd") if t.rank == matching.CONTAINS]
    assert contains and all("zz" in t.starts for t in contains)


def test_a_short_word_must_start_a_word(business, book):
    assert names(business, "ch top ltd") == ["Christopher Wood"]  # "ch" starts "christopher"
    assert names(business, "zh top ltd") == ["Zed Zhou"]
    assert names(business, "op top ltd") == []  # "op" is inside "stopford", "laptop": no word starts so


def test_a_short_word_beside_a_phone_fragment(business, book):
    assert names(business, "li 123456") == ["Li Wei"]
    assert names(business, "jo 123456") == []


@pytest.mark.parametrize("typed", ["wood pick", "chris wood", "Christopher Wood", "pickering ltd"])
def test_long_words_still_find_the_customer(business, book, typed):
    assert "Christopher Wood" in names(business, typed)


def test_the_list_screen_says_nobody_matches(login_as, book):
    client = login_as("receptionist")
    html = client.get("/customers?q=zz+top+ltd").get_data(as_text=True)
    assert "Christopher Wood" not in html and "Stopford" not in html
    assert "100+" not in html
