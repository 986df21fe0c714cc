"""Counts read as English (issue 15, item 7): "1 possible duplicate", never "1 possible duplicates"."""

import pytest

from webapp.text import counted


@pytest.mark.parametrize(
    "n, words, expected",
    [
        (0, ("possible duplicate",), "0 possible duplicates"),
        (1, ("possible duplicate",), "1 possible duplicate"),
        (2, ("possible duplicate",), "2 possible duplicates"),
        (1_200, ("customer",), "1,200 customers"),
        (1, ("person", "people"), "1 person"),
        (3, ("person", "people"), "3 people"),
    ],
)
def test_counted(n, words, expected):
    assert counted(n, *words) == expected


def test_the_duplicates_page_counts_one_customer_as_one(app):
    from flask import render_template_string

    with app.test_request_context():
        assert render_template_string("{{ 1|counted('customer') }}") == "1 customer"
        assert render_template_string("{{ 2|counted('record') }}") == "2 records"
