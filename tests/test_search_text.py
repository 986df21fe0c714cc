"""The one fold (webapp/text.py): search, the customer rules and duplicates read names the same way."""

import pytest

from webapp.extensions import db
from webapp.merge import candidates, names
from webapp.models import DuplicateCandidate
from webapp.text import fold, fold_compact, fold_fragment, strip_accents


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Zoë  O'Brien", "zoe obrien"),
        ("Straße", "strasse"),
        ("Đorđe Søren-Łukasz", "dorde soren lukasz"),
        ("Анна Иванова", "анна иванова"),
        ("李 小龍", "李 小龍"),
        (None, ""),
    ],
)
def test_fold(typed, folded):
    assert fold(typed) == folded


def test_the_other_forms():
    assert strip_accents("Zoë") == "zoe"
    assert fold_fragment("O'Brien-Ng ") == "obrien-ng"
    assert fold_compact("Zoë O'Brien-Ñúñez") == "zoeobriennunez"


def test_duplicates_fold_cyrillic_names_to_keys():
    # The old duplicates fold kept ASCII only, so every Cyrillic name had the key "".
    assert names.fold("Иванова") == "иванова"
    assert names.keys_for("Анна", "Иванова", None, None, None)["name_key"] == "анна|иванова"


def test_duplicates_match_cyrillic_names(make_customer, business):
    a = make_customer(first_name="Анна", last_name="Иванова", email="anna@a.com")
    b = make_customer(first_name="АННА", last_name="иванова", email="anna@b.com")
    make_customer(first_name="Ольга", last_name="Петрова", email="olga@a.com")
    candidates.refresh_duplicates(business.id)
    db.session.commit()
    pairs = {
        frozenset((x, y)): reasons
        for x, y, reasons in db.session.execute(
            db.select(
                DuplicateCandidate.customer_a_id, DuplicateCandidate.customer_b_id, DuplicateCandidate.reasons
            )
        )
    }
    assert pairs == {frozenset((a.id, b.id)): "name"}
