"""Duplicate candidates: keys, nicknames, typos, scores, dismissals, incremental refresh, the command."""

from datetime import date

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.merge import candidates, names
from webapp.models import DismissedPair, DuplicateCandidate


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("smith", "smith", 0),
        ("smith", "smiht", 1),  # swapped neighbours
        ("smith", "smyth", 1),
        ("smith", "smithe", 1),
        ("catherine", "katherine", 1),
        ("abc", "xyz", 3),
    ],
)
def test_damerau_levenshtein(a, b, distance):
    assert names.damerau_levenshtein(a, b) == distance


def test_keys_fold_accents_nicknames_email_and_phone():
    assert names.fold("Zoë O'Brien-Ñúñez") == "zoeobriennunez"
    assert names.canonical_first("Bob") == names.canonical_first("ROBERT") == "robert"
    assert names.canonical_first("Liz") == names.canonical_first("Beth") == "elizabeth"
    assert names.email_key("J.Smith+salon@GoogleMail.com") == "jsmith@gmail.com"
    assert names.email_key("j.smith@example.com") == "j.smith@example.com"
    assert names.phone_key("+447911123456") == names.phone_key("07911 123456") == "911123456"
    keys = names.keys_for("Bob", "Smith", None, None, None)
    assert keys["name_key"] == "robert|smith" and keys["last_dob_key"] is None


def pair_reasons(business_id):
    rows = db.session.execute(
        select(
            DuplicateCandidate.customer_a_id,
            DuplicateCandidate.customer_b_id,
            DuplicateCandidate.reasons,
            DuplicateCandidate.score,
        )
    ).all()
    return {frozenset((a, b)): (reasons, score) for a, b, reasons, score in rows}


def test_refresh_finds_each_kind_of_pair(make_customer, business):
    dob = date(1990, 3, 4)
    a = make_customer(first_name="Zoë", last_name="Ng", email="zoe.ng+x@gmail.com")
    b = make_customer(first_name="Zoe", last_name="Nguyen", email="zoeng@googlemail.com")  # same mailbox
    c = make_customer(
        first_name="Anna", last_name="Müller", email=None, phone="+447911123456", date_of_birth=dob
    )
    d = make_customer(
        first_name="anna", last_name="Muler", email=None, phone="+447700123456", date_of_birth=dob
    )
    e = make_customer(first_name="Bob", last_name="Stone", email="bob@a.com")
    f = make_customer(first_name="Robert", last_name="Stone", email="rob@b.com")
    g = make_customer(first_name="Liz", last_name="Park", email="liz@a.com", date_of_birth=dob)
    h = make_customer(
        first_name="Elizabeth", last_name="Park", email="e@b.com", date_of_birth=date(1991, 1, 1)
    )
    make_customer(first_name="Tom", last_name="Jones", email="t@a.com", date_of_birth=dob)
    make_customer(first_name="Tim", last_name="Jonas", email="t@b.com", date_of_birth=dob)  # two typos, short
    scan = candidates.refresh_duplicates(business.id)
    db.session.commit()
    found = pair_reasons(business.id)
    assert found[frozenset((a.id, b.id))][0] == "email"
    assert found[frozenset((c.id, d.id))] == ("name_dob:1", 80)
    assert found[frozenset((e.id, f.id))] == ("name", 60)
    assert frozenset((g.id, h.id)) not in found, "different birth dates"
    assert len(found) == 3 and scan.candidates == 3 and scan.customers == 10


def test_several_reasons_score_higher(make_customer, business):
    a = make_customer(first_name="Ann", last_name="Lee", email="ann@x.com", phone="+447911123456")
    b = make_customer(first_name="Ann", last_name="Lee", email="ann@y.com", phone="+4407911123456")
    candidates.refresh_duplicates(business.id)
    assert pair_reasons(business.id)[frozenset((a.id, b.id))] == ("name,phone", 95)


def test_dismissed_pairs_stay_dismissed(make_customer, business, make_user):
    manager = make_user("manager")
    a = make_customer(first_name="Ann", last_name="Lee", email=None, phone="+447911123456")
    b = make_customer(first_name="Ann", last_name="Lee", email=None, phone="+4407911123456")
    candidates.refresh_duplicates(business.id)
    candidates.dismiss_pair(business.id, b.id, a.id, manager)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0
    assert db.session.scalar(select(func.count()).select_from(DismissedPair)) == 1
    candidates.refresh_duplicates(business.id)
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0


def test_incremental_refresh_for_one_customer(make_customer, business):
    a = make_customer(first_name="Ann", last_name="Lee", email="ann@x.com")
    candidates.refresh_duplicates(business.id)
    b = make_customer(first_name="Anne", last_name="Lee", email="ANN@x.com", email_normalized="ann@x.co")
    b.email_normalized = "other@x.com"
    db.session.commit()
    assert candidates.refresh_for_customers(business.id, [b.id]) == 1
    assert frozenset((a.id, b.id)) in pair_reasons(business.id)


def test_big_groups_are_not_duplicates(make_customer, business):
    for i in range(candidates.MAX_GROUP + 1):
        make_customer(first_name="John", last_name="Smith", email=f"j{i}@example.com")
    candidates.refresh_duplicates(business.id)
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0


def test_tenants_never_meet(make_customer, make_business, business):
    other = make_business("Other")
    make_customer(first_name="Ann", last_name="Lee", email="ann@x.com")
    make_customer(business_=other, first_name="Ann", last_name="Lee", email="ann@x.com")
    candidates.refresh_duplicates(business.id)
    candidates.refresh_duplicates(other.id)
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0


def test_command_refreshes_every_business(app, make_customer, business):
    make_customer(first_name="Ann", last_name="Lee", email=None, phone="+447911123456")
    make_customer(first_name="Ann", last_name="Lee", email=None, phone="+4407911123456")
    result = app.test_cli_runner().invoke(args=["refresh-duplicates"])
    assert result.exit_code == 0, result.output
    assert "Test Salon: 2 customers checked, 1 possible duplicate," in result.output
    bad = app.test_cli_runner().invoke(args=["refresh-duplicates", "--business", "Nope"])
    assert bad.exit_code != 0 and "No business called 'Nope'" in bad.output


def test_anonymizing_forgets_pairs_and_keys(make_customer, business):
    from webapp.customers import services as customers
    from webapp.models import CustomerMatchKey

    a = make_customer(first_name="Ann", last_name="Lee", email=None, phone="+447911123456")
    make_customer(first_name="Ann", last_name="Lee", email=None, phone="+4407911123456")
    candidates.refresh_duplicates(business.id)
    db.session.commit()
    customers.anonymize(a, None)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 0
    assert db.session.get(CustomerMatchKey, a.id) is None


def test_customer_anonymized_signal_forgets_only_that_customers_keys_and_pairs(make_customer, business):
    from webapp import signals
    from webapp.models import CustomerMatchKey

    a = make_customer(first_name="Ann", last_name="Lee", email=None, phone="+447911123456")
    b = make_customer(first_name="Ann", last_name="Lee", email=None, phone="+4407911123456")
    c = make_customer(first_name="Bo", last_name="Ray", email="bo@example.com")
    make_customer(first_name="Bo", last_name="Ray", email="BO@example.com ")
    candidates.refresh_duplicates(business.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 2
    signals.customer_anonymized.send(a)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 1
    assert db.session.get(CustomerMatchKey, a.id) is None
    assert db.session.get(CustomerMatchKey, b.id) is not None and db.session.get(CustomerMatchKey, c.id)
