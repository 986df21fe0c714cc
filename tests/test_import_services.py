"""The import services: messy files end to end, policies, repeats, dry run, all-or-nothing, undo, scoping."""

from datetime import date, timedelta

import pytest
from import_support import csv_bytes, imported, uploaded
from sqlalchemy import func, select
from sqlalchemy import text as sql

from webapp.customers import services as customer_services
from webapp.errors import Invalid, NotFound
from webapp.extensions import db
from webapp.imports import services
from webapp.models import AuditEvent, Customer, ImportChange, ImportJob, Tag
from webapp.search import deep_pages, tag_lists


@pytest.fixture
def manager(make_user):
    return make_user("manager")


def customers(business):
    return {
        c.email or c.phone: c
        for c in db.session.scalars(select(Customer).where(Customer.business_id == business.id))
    }


def count_customers(business=None):
    query = select(func.count()).select_from(Customer)
    if business is not None:
        query = query.where(Customer.business_id == business.id)
    return db.session.scalar(query)


MESSY = (
    "\ufeffFirst Name;Surname;E-Mail;Mobile;DOB;Labels;Notes;Created At\r\n"
    'Jane;Smith;Jane@Example.com;07400 123456;23/04/1985;VIP, Allergy;"Likes tea,\r\nno sugar";2021-03-04\r\n'
    ";;;;;;;\r\n"
    "\r\n"
    "Bob;Jones;;+44 7400 123457;31155;vip;;\r\n"
    "Ann;Lee;ann@example.com;0044 7400 123458;1990-01-02;;;\r\n"
    "Raj;Patel;;447400123459;;;;\r\n"
    'Eve;Wu;eve@example.com;(07400) 123-460;;;=HYPERLINK("http://x");\r\n'
    "Zed;;zed@example;;;;;\r\n"
    "Jane;Smith again;jane@example.com;;;;;\r\n"
)


def test_a_messy_real_world_file(business, manager):
    job, counts = imported(business, manager, MESSY)
    assert job.status == "done" and job.error is None
    assert counts == services.Counts(created=5, updated=0, skipped=0, rejected=1, repeated=1)
    book = customers(business)
    jane = book["Jane@Example.com"]
    assert (jane.first_name, jane.last_name, jane.email_normalized) == ("Jane", "Smith", "jane@example.com")
    assert jane.phone == "+447400123456" and jane.date_of_birth == date(1985, 4, 23)
    assert jane.notes == "Likes tea,\r\nno sugar" and jane.source == "import"
    assert jane.created_at.date() == date(2021, 3, 4)
    assert jane.search_name == "jane smith" and jane.search_phone == "7400123456"
    assert [t.name for t in jane.tags] == ["Allergy", "VIP"]
    assert {p: book[p].phone for p in ("+447400123457", "+447400123459")} == {
        "+447400123457": "+447400123457", "+447400123459": "+447400123459"
    }  # fmt: skip
    bob = book["+447400123457"]
    assert bob.date_of_birth == date(1985, 4, 18) and [t.name for t in bob.tags] == [
        "VIP"
    ]  # one tag, any case
    assert book["eve@example.com"].phone == "+447400123460"
    assert book["eve@example.com"].notes == '=HYPERLINK("http://x")'  # stored as text, never run
    # the stored tag lists are what the triggers / a rebuild give
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0
    assert db.session.scalar(select(func.count()).select_from(Tag).where(Tag.business_id == business.id)) == 2
    rejected = "".join(services.rejected_csv(job))
    assert rejected.startswith("\ufeffline,First Name,Surname")
    assert "10,Zed" in rejected and "not a valid email" in rejected
    assert "11,Jane,Smith again" in rejected and "Repeats line 2 of the file (the same email)" in rejected
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.business_id == business.id)).all()
    assert events.count("customer.created") == 5 and "import.run" in events and "import.uploaded" in events


def test_the_preview_shows_values_as_stored_with_problems_and_actions(business, manager, make_customer):
    make_customer(email="ann@example.com", first_name="Ann")
    job = uploaded(business, manager, MESSY)
    rows = services.preview(job, limit=20)
    assert [r.line for r in rows] == [2, 6, 7, 8, 9, 10, 11]
    first = rows[0]
    assert first.action == "create" and first.problems == []
    assert first.values["phone"] == "+447400123456" and first.values["birthday"] == "1985-04-23"
    assert first.values["tags"] == "VIP, Allergy" and first.values["source"] == "import"
    assert rows[2].action == "skip" and "Matches Ann" in rows[2].reason
    assert rows[5].action == "reject" and any("email" in p.lower() for p in rows[5].problems)
    assert rows[6].action == "repeat"
    assert len(services.preview(job, limit=2)) == 2
    assert services.dry_run(job) == services.Counts(created=4, updated=0, skipped=1, rejected=1, repeated=1)


def test_a_dry_run_writes_nothing(business, manager):
    job = uploaded(business, manager, MESSY)
    before = (count_customers(), db.session.scalar(select(func.count()).select_from(AuditEvent)))
    assert services.dry_run(job).created == 5
    db.session.commit()
    assert (count_customers(), db.session.scalar(select(func.count()).select_from(AuditEvent))) == before
    assert db.session.get(ImportJob, job.id).status == "uploaded"


def policy_file():
    return (
        "first_name,last_name,email,phone,company,notes,tags\n"
        "Janet,Smith,jane@example.com,07400 123456,Acme,,VIP\n"
    )


@pytest.fixture
def jane(make_customer, make_tag):
    return make_customer(
        first_name="Jane", last_name="Smyth", email="jane@example.com", company="", notes="old note",
        tags=[make_tag("Regular")],
    )  # fmt: skip


def test_policy_skip(business, manager, jane):
    job, counts = imported(business, manager, policy_file())
    assert counts == services.Counts(skipped=1)
    db.session.refresh(jane)
    assert (jane.first_name, jane.phone, jane.version) == ("Jane", None, 1)


def test_policy_update_non_empty_values_win(business, manager, jane):
    job, counts = imported(business, manager, policy_file(), policy="update")
    assert counts == services.Counts(updated=1)
    jane = db.session.get(Customer, jane.id)
    assert (jane.first_name, jane.last_name, jane.phone, jane.company) == (
        "Janet",
        "Smith",
        "+447400123456",
        "Acme",
    )
    assert jane.notes == "old note"  # an empty cell changes nothing
    assert [t.name for t in jane.tags] == ["Regular", "VIP"] and jane.version == 2
    assert jane.search_name == "janet smith" and jane.search_phone == "7400123456"
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.updated"))
    assert event.customer_id == jane.id and event.changes["first_name"] == ["Jane", "Janet"]


def test_policy_fill_only_empty_fields(business, manager, jane):
    job, counts = imported(business, manager, policy_file(), policy="fill")
    assert counts == services.Counts(updated=1)
    jane = db.session.get(Customer, jane.id)
    assert (jane.first_name, jane.last_name, jane.phone, jane.company) == (
        "Jane",
        "Smyth",
        "+447400123456",
        "Acme",
    )


def test_a_match_with_nothing_new_is_skipped(business, manager, make_customer):
    make_customer(first_name="Jane", last_name="Smith", email="jane@example.com")
    _, counts = imported(
        business, manager, "first_name,last_name,email\nJane,Smith,JANE@example.com\n", policy="update"
    )
    assert counts == services.Counts(skipped=1)


def test_email_and_phone_of_two_different_customers_is_rejected_with_why(business, manager, make_customer):
    make_customer(first_name="Ann", last_name="A", email="ann@example.com")
    make_customer(first_name="Bea", last_name="B", email="bea@example.com", phone="+447400123456")
    job, counts = imported(
        business, manager, "first_name,email,phone\nAnn,ann@example.com,07400 123456\n", policy="update"
    )
    assert counts == services.Counts(rejected=1)
    assert "The email belongs to Ann A and the phone to Bea B" in "".join(services.rejected_csv(job))


def test_repeats_inside_the_file_by_email_or_phone(business, manager):
    text = (
        "first_name,email,phone\nA,a@example.com,07400 111111\nB,A@EXAMPLE.COM,\n"
        "C,,+44 7400 111111\nD,d@example.com,\nE,bad,\nE,e@example.com,\n"
    )
    _, counts = imported(business, manager, text)
    assert counts == services.Counts(created=3, rejected=1, repeated=2)  # a rejected row is not "seen"


def test_rows_without_a_name_or_contact_follow_the_form_rules(business, manager):
    text = (
        "first_name,email,phone,dob\n,a@example.com,,\nB,,,\n"
        "C,c@example.com,123,\nD,d@example.com,,2099-01-01\n"
    )
    job, counts = imported(business, manager, text)
    assert counts == services.Counts(rejected=4)
    reasons = "".join(services.rejected_csv(job))
    assert "No first name" in reasons and "No email and no phone" in reasons
    assert "Phone “123”" in reasons and "in the future" in reasons


def test_the_file_can_say_the_source_and_a_full_name_is_split(business, manager):
    text = 'Name,Email,Source\n"Smith, Jane",j@example.com,Walk-In\nBob Stone,b@example.com,Instagram\n'
    job, counts = imported(business, manager, text)
    assert counts.created == 2
    book = customers(business)
    assert (book["j@example.com"].first_name, book["j@example.com"].last_name) == ("Jane", "Smith")
    assert book["j@example.com"].source == "walk-in" and book["b@example.com"].source == "import"
    assert any("Instagram" in p for p in services.preview(job)[1].problems)  # told, not rejected


def test_set_mapping_refuses_two_columns_on_one_field_and_a_bad_policy(business, manager):
    job = uploaded(business, manager, "email,mail,first_name\na@example.com,b@example.com,A\n")
    with pytest.raises(Invalid) as e:
        services.set_mapping(job, {0: "email", 1: "email", 2: "first_name"}, "skip")
    assert e.value.field == "mapping"
    with pytest.raises(Invalid) as e:
        services.set_mapping(job, {0: "email", 1: "ignore", 2: "first_name"}, "merge")
    assert e.value.field == "policy"
    services.set_mapping(job, {"0": "ignore", "1": "email", "2": "first_name"}, "update")
    assert job.mapping == {"0": "ignore", "1": "email", "2": "first_name"} and job.policy == "update"


def test_upload_refuses_bad_files_with_a_message_on_file_and_writes_nothing(app, business, manager):
    cases = [b"", b"first_name,email\n", b"\x00\x01binary", b"name\nJ\x81rgen\n"]
    for data in cases:
        with pytest.raises(Invalid) as e:
            services.upload(business, manager, "x.csv", data)
        assert e.value.field == "file" and e.value.message
    app.config["IMPORT_MAX_BYTES"] = 1000
    try:
        with pytest.raises(Invalid, match="limit is 1000 bytes"):
            services.upload(business, manager, "x.csv", b"email\n" + b"a@example.com\n" * 100)
    finally:
        app.config.pop("IMPORT_MAX_BYTES")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_all_or_nothing_when_something_breaks(app, business, manager, monkeypatch):
    text = "first_name,email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(5000))
    job = uploaded(business, manager, text)
    calls = {"n": 0}
    real = services.Writer.write

    def breaks_on_the_third_chunk(self, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(self, rows)

    monkeypatch.setattr(services.Writer, "write", breaks_on_the_third_chunk)
    with pytest.raises(services.ImportFailed, match="nothing was saved"):
        services.run(job.id)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "failed" and "disk full" in job.error and "line 4002" in job.error
    assert count_customers(business) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportChange)) == 0
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "customer.created" not in actions and "import.run" not in actions
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0
    if app.backend == "sqlite":  # the triggers the import drops in its transaction are back
        names = set(db.session.scalars(sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert set(services.QUIET) <= names
    monkeypatch.setattr(services.Writer, "write", real)
    assert services.run(job.id).created == 5000  # a failed job can be run again
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0


def test_run_twice_does_the_work_once(business, manager):
    job, counts = imported(business, manager, "first_name,email\nA,a@example.com\n")
    assert services.run(job.id) == counts and count_customers(business) == 1


def test_progress_is_visible_to_another_session_while_the_import_runs(app, business, manager):
    text = "first_name,email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(4500))
    job = uploaded(business, manager, text)
    seen = []

    def look(processed, total):
        with app.app_context():  # another session, as the progress page has
            other = services.job_or_404(business, job.id)
            seen.append((other.status, other.processed_rows, other.progress_percent))

    from webapp.imports import progress

    progress.EVERY_SECONDS, before = 0, progress.EVERY_SECONDS
    try:
        services.run(job.id, look)
    finally:
        progress.EVERY_SECONDS = before
    assert seen == [("running", 2000, 44), ("running", 4000, 88), ("running", 4500, 100)]
    assert services.job_or_404(business, job.id).progress_percent == 100


def test_another_businesss_job_is_not_found(business, manager, make_business):
    job = uploaded(business, manager, "first_name,email\nA,a@example.com\n")
    other = make_business("Elsewhere")
    with pytest.raises(NotFound):
        services.job_or_404(other, job.id)
    with pytest.raises(NotFound):
        services.job_or_404(business, "nope")
    assert services.job_or_404(business, str(job.id)) is job


# --- undo ------------------------------------------------------------------------------------------


def test_undo_removes_created_and_restores_updated(business, manager, jane):
    text = policy_file() + "Bob,B,bob@example.com,,,,New tag\n"
    job, counts = imported(business, manager, text, policy="update")
    assert counts == services.Counts(created=1, updated=1)
    result = services.undo(job, manager)
    db.session.commit()
    assert result == services.UndoResult(removed=1, restored=1, left_alone=[])
    jane = db.session.get(Customer, jane.id)
    assert (jane.first_name, jane.last_name, jane.phone, jane.company) == ("Jane", "Smyth", None, "")
    assert [t.name for t in jane.tags] == ["Regular"] and jane.search_name == "jane smyth"
    assert count_customers(business) == 1
    job = db.session.get(ImportJob, job.id)
    assert job.status == "undone" and job.undone_at and not job.can_undo
    assert job.undo_report == {"removed": 1, "restored": 1, "left_alone": []}
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.undone")).changes["removed"]
        == 1
    )
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0


def test_undo_leaves_alone_what_someone_changed_since(business, manager, make_customer, make_booking):
    ann = make_customer(first_name="Ann", email="ann@example.com")
    cat = make_customer(first_name="Cat", email="cat@example.com")
    text = (
        "first_name,email,phone,company\nAnn,ann@example.com,07400 123451,Acme\nCat,cat@example.com,,Beta\n"
        "New1,n1@example.com,,\nNew2,n2@example.com,,\nNew3,n3@example.com,,\n"
    )
    job, counts = imported(business, manager, text, policy="update")
    assert counts == services.Counts(created=3, updated=2)
    book = customers(business)
    # someone edits Ann's company (a field the import set), and Cat's notes (one it did not)
    customer_services.update_customer(
        book["ann@example.com"], manager, {"company": "Other"}, expected_version=2
    )
    customer_services.update_customer(book["cat@example.com"], manager, {"notes": "hi"}, expected_version=2)
    customer_services.update_customer(book["n1@example.com"], manager, {"last_name": "X"}, expected_version=1)
    make_booking(book["n2@example.com"])
    db.session.commit()
    result = services.undo(job, manager)
    db.session.commit()
    assert (result.removed, result.restored) == (1, 1)
    why = {name: reason for _, name, reason in result.left_alone}
    assert why == {
        "Ann Test": "Changed since the import by someone else (company).",
        "New1 X": "Edited since the import.",
        "New2": "Has bookings since the import.",
    }
    book = customers(business)
    assert "n3@example.com" not in book and book["ann@example.com"].company == "Other"
    assert book["cat@example.com"].company == "" and book["cat@example.com"].notes == "hi"
    assert book["ann@example.com"].id == ann.id and book["cat@example.com"].id == cat.id


def test_undo_leaves_alone_who_bought_something_since(business, manager):
    """A sale, points or a stamp card are append-only history: the customer stays (and nothing fails)."""
    from webapp.money.sales import record_sale

    text = "first_name,email\nPaid,paid@example.com\nIdle,idle@example.com\n"
    job, counts = imported(business, manager, text)
    assert counts.created == 2
    record_sale(customers(business)["paid@example.com"], total=2500, actor=manager)
    db.session.commit()
    result = services.undo(job, manager)
    db.session.commit()
    assert result.removed == 1
    assert [(name, why) for _, name, why in result.left_alone] == [
        ("Paid", "Has sales, points, a stamp card or store credit since the import.")
    ]
    book = customers(business)
    assert "paid@example.com" in book and "idle@example.com" not in book


def test_undo_twice_is_refused(business, manager):
    job, _ = imported(business, manager, "first_name,email\nA,a@example.com\n")
    services.undo(job, manager)
    db.session.commit()
    with pytest.raises(Invalid) as e:
        services.undo(db.session.get(ImportJob, job.id), manager)
    assert e.value.field == "import" and "already undone" in e.value.message


def test_undo_only_when_finished_and_for_thirty_days(business, manager):
    job = uploaded(business, manager, "first_name,email\nA,a@example.com\n")
    with pytest.raises(Invalid, match="Only a finished import"):
        services.undo(job, manager)
    services.run(job.id)
    job = db.session.get(ImportJob, job.id)
    job.finished_at -= timedelta(days=31)
    db.session.commit()
    assert not job.can_undo
    with pytest.raises(Invalid, match="30 days"):
        services.undo(job, manager)
    assert count_customers(business) == 1


def test_queue_runs_the_task(app, business, manager):
    """Immediate mode (tests): the task runs at once; the real worker is in test_import_worker.py."""
    job = uploaded(business, manager, "first_name,email\nA,a@example.com\n")
    services.queue(job, manager)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "done" and job.created == 1
    with pytest.raises(Invalid, match="already started"):
        services.queue(job, manager)


def test_uploads_keep_the_file_for_any_worker(business, manager):
    data = csv_bytes("first_name;email\nA;a@example.com\n", bom=True)
    job = uploaded(business, manager, data)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.data == data and job.size_bytes == len(data) and job.delimiter == ";"
    assert job.encoding == "utf-8-sig" and job.headers == ["first_name", "email"] and job.total_rows == 1
    assert job.mapping == {"0": "first_name", "1": "email"} and job.status == "uploaded"


def sqlite_schema():
    return set(db.session.scalars(sql("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')")))


def test_a_large_import_into_a_small_book_rebuilds_indexes_once_and_keeps_everything_right(
    app, business, manager, make_customer, monkeypatch
):
    if app.backend != "sqlite":
        pytest.skip("the index rebuild is SQLite's")
    make_customer(first_name="Old", email="old@example.com")
    monkeypatch.setattr(services, "BULK_REBUILD_FROM", 20)
    schema = sqlite_schema()
    text = "first_name,last_name,email,tags\n" + "".join(
        f"Zoë{i},Ng,z{i}@example.com,{'VIP' if i % 2 else ''}\n" for i in range(60)
    )
    job = uploaded(business, manager, text)
    real = services.Writer.write
    monkeypatch.setattr(services.Writer, "write", lambda self, rows: 1 / 0)
    with pytest.raises(services.ImportFailed):
        services.run(job.id)
    assert sqlite_schema() == schema  # the failed import's drops rolled back
    monkeypatch.setattr(services.Writer, "write", real)
    assert services.run(job.id).created == 60
    assert sqlite_schema() == schema
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0
    fts = db.session.scalar(sql("SELECT count(*) FROM customer_fts WHERE customer_fts MATCH 'zoe1'"))
    assert fts == 11  # zoe1, zoe10-19
    assert db.session.scalar(sql("SELECT count(*) FROM customer_fts")) == 61


def test_with_the_triggers_left_on_the_counts_are_still_right(business, manager, monkeypatch, make_customer):
    """A PostgreSQL role that may not set session_replication_role keeps the triggers on."""

    class TriggersOn(services.quiet_triggers):
        def __init__(self):
            self.dialect, self.saved, self.active = "none", [], False

    monkeypatch.setattr(services, "quiet_triggers", TriggersOn)
    make_customer(first_name="Ann", email="ann@example.com")
    text = "first_name,email,tags\nAnn,ann@example.com,VIP\n" + "".join(
        f"P{i},p{i}@example.com,{'VIP' if i % 2 else 'New'}\n" for i in range(30)
    )
    _, counts = imported(business, manager, text, policy="update")
    assert counts == services.Counts(created=30, updated=1)
    assert tag_lists.rebuild(business.id) == 0 and deep_pages.rebuild(business.id) == 0


def test_the_rejected_rows_file_before_the_run_and_formulas_neutralized(business, manager):
    job = uploaded(business, manager, "first_name,email\n=cmd|' /C calc'!A0,bad\nOk,ok@example.com\n")
    text = "".join(services.rejected_csv(job))
    assert text.splitlines()[1].startswith("2,'=cmd|")  # a spreadsheet shows it, never runs it
    assert "ok@example.com" not in text
