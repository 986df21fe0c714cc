"""The merge button says which record is kept, under the name chosen (issue 15, item 7): choosing the
duplicate's name relabels it, over htmx (an out-of-band swap with the preview) and without JavaScript
(the page posted back with "Update preview")."""

import re
from datetime import date

import pytest

from helpers import HX
from webapp.extensions import db
from webapp.merge.candidates import refresh_duplicates


@pytest.fixture
def pair(make_customer, business):
    a = make_customer(
        first_name="Anna", last_name="Müller", email="anna@example.com", date_of_birth=date(1990, 3, 4)
    )
    b = make_customer(
        first_name="Ana", last_name="Muller", email="anna.m@example.com", date_of_birth=date(1990, 3, 4)
    )
    refresh_duplicates(business.id)
    db.session.commit()
    return a, b  # a survives


def label(html: str) -> str:
    button = re.search(r'<button[^>]*value="merge"[^>]*>(.*?)</button>', html, re.S)
    return re.sub(r"<[^>]+>", "", button.group(1)).strip()


def test_the_label_names_the_kept_record_as_it_stands(login_as, pair):
    a, b = pair
    html = login_as("manager").get(f"/customers/merge?source={b.id}&target={a.id}").get_data(as_text=True)
    assert label(html) == "Merge into Anna Müller"


def test_without_javascript_the_label_follows_the_chosen_name(login_as, pair):
    a, b = pair
    data = {"action": "preview", "first_name": "source", "last_name": "source", "notes": "join"}
    html = (
        login_as("manager")
        .post(f"/customers/merge?source={b.id}&target={a.id}", data=data)
        .get_data(as_text=True)
    )
    assert label(html) == "Merge into Ana Muller"


def test_over_htmx_the_preview_relabels_the_button_out_of_band(login_as, pair):
    a, b = pair
    data = {"action": "preview", "first_name": "source", "last_name": "target", "notes": "join"}
    r = login_as("manager").post(f"/customers/merge?source={b.id}&target={a.id}", data=data, headers=HX)
    html = r.get_data(as_text=True)
    oob = re.search(r'<span id="merge-kept-name"[^>]*hx-swap-oob="true"[^>]*>(.*?)</span>', html, re.S)
    assert oob and oob.group(1).strip() == "Ana Müller"
