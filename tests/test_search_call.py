"""The one plain call: search_customers(business, query, filters, sort, page, limit, with_count)."""

from datetime import date

import pytest

from webapp.errors import Invalid
from webapp.extensions import db
from webapp.models.customer import customer_tag
from webapp.search import Filters, search_customers


def names(results) -> list[str]:
    return [c.display_name for c in results.customers]


@pytest.fixture
def book(make_customer):
    made = {
        "ann": make_customer(first_name="Ann", last_name="Lee", date_of_birth=date(1990, 3, 1)),
        "bob": make_customer(first_name="Bob", last_name="Annett", total_spent=500),
        "cy": make_customer(first_name="Cy", last_name="Zane", total_spent=900),
    }
    db.session.commit()
    return made


def test_a_query_ranks_matches_best_first(business, book):
    found = search_customers(business, "ann")
    assert names(found) == ["Ann Lee", "Bob Annett"]  # a first-name start beats a last-name start
    assert found.count == 2 and not found.capped and found.count_label == "2 customers"


def test_no_query_lists_in_the_sort_asked_for(business, book):
    assert names(search_customers(business)) == ["Ann Lee", "Bob Annett", "Cy Zane"]
    assert names(search_customers(business, sort="-total_spent"))[:2] == ["Cy Zane", "Bob Annett"]
    assert names(search_customers(business, sort="-spent"))[:2] == ["Cy Zane", "Bob Annett"]  # an alias


def test_filters_are_plain_values(business, book, make_tag):
    tag = make_tag("VIP")
    db.session.execute(
        customer_tag.insert().values(business_id=business.id, customer_id=book["bob"].id, tag_id=tag.id)
    )
    db.session.commit()
    assert names(search_customers(business, filters=Filters(tags=[tag.id]))) == ["Bob Annett"]
    assert names(search_customers(business, "ann", Filters(birth_months=[3]))) == ["Ann Lee"]


def test_pages_and_the_count(business, book):
    first = search_customers(business, limit=2)
    second = search_customers(business, page=2, limit=2, with_count=False)
    assert names(first) == ["Ann Lee", "Bob Annett"] and first.has_next and first.count == 3
    assert names(second) == ["Cy Zane"] and not second.has_next and second.count == 0


def test_the_query_is_cleaned_and_bad_values_are_invalid(business, book):
    assert names(search_customers(business, "  ann\x00 ")) == ["Ann Lee", "Bob Annett"]
    with pytest.raises(Invalid) as caught:
        search_customers(business, sort="shoe_size")
    assert caught.value.field == "sort"
    with pytest.raises(Invalid):
        search_customers(business, page=0)
