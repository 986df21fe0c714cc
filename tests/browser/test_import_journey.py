"""Journey: a manager imports a CSV file (upload, match the columns, preview, dry run, run), watches
the progress bar across a reload, reads the result and undoes the import — axe on every screen."""

import re

from sqlalchemy import func, select

from browser_support import assert_accessible, htmx_loaded, sign_in_browser, wait_htmx_idle
from helpers import PASSWORD
from webapp.extensions import db
from webapp.imports import services
from webapp.models import Customer, ImportJob

CSV = (
    "Given name;Surname;e-mail;Mobile;Birthday;Notes\n"
    "Ann;Lee;ann.lee@example.com;07400 123456;23/04/1985;Likes tea\n"
    "Bob;Ng;bob.ng@example.com;+44 7400 123457;1990-04-23;\n"
    "Cara;Newname;cara@example.com;;;Moved house\n"
    "Ann;Lee;ann.lee@example.com;07400 123456;23/04/1985;Likes tea\n"
    ";;not-an-email;12;;\n"
)


def customers() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Customer))


def test_import_a_file_watch_it_finish_then_undo(desk, make_user, make_customer, monkeypatch):
    manager = make_user("manager", name="Max Manager")
    make_customer(first_name="Cara", last_name="Old", email="cara@example.com")
    # Hold the job in the queue (the test plays the worker below, to watch the progress bar move).
    monkeypatch.setattr("webapp.imports.tasks.run_import", lambda job_id: None)

    sign_in_browser(desk, manager.email, PASSWORD)
    desk.get_by_role("main").get_by_role("link", name="Import", exact=True).click()
    desk.wait_for_url("**/customers/import")
    assert_accessible(desk, "upload page")
    desk.get_by_role("button", name="Upload and continue").click()
    assert desk.get_by_text("Choose the CSV file to import.").first.is_visible()
    desk.get_by_label("CSV file").set_input_files(
        {"name": "old-system.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    desk.get_by_role("button", name="Upload and continue").click()
    desk.wait_for_url(re.compile(r".*/imports/\d+$"))
    job_id = int(desk.url.rsplit("/", 1)[1])
    assert htmx_loaded(desk)
    assert desk.get_by_role("heading", name="Match the columns").is_visible()
    assert desk.get_by_label("e-mail").input_value() == "email"
    assert desk.get_by_label("Given name").input_value() == "first_name"
    assert_accessible(desk, "mapping step")

    # Changing a column's field refreshes the preview in place.
    desk.get_by_label("Notes").select_option("ignore")
    preview = desk.locator("#outcome")
    preview.get_by_role("heading", name=re.compile("Preview: the first")).wait_for()
    wait_htmx_idle(desk)
    assert "ann.lee@example.com" in preview.inner_text()
    assert "Likes tea" not in preview.inner_text()
    desk.get_by_label("Notes").select_option("notes")
    wait_htmx_idle(desk)
    desk.get_by_role("button", name="Preview").click()
    wait_htmx_idle(desk)
    assert "Likes tea" in preview.inner_text() and "Rejected" in preview.inner_text()
    assert_accessible(desk, "mapping step with the preview")

    desk.get_by_label("Update").check()
    wait_htmx_idle(desk)
    desk.get_by_role("button", name="Dry run").click()
    preview.get_by_role("heading", name="Dry run: what the import would do").wait_for()
    assert "Updated" in preview.inner_text()
    assert customers() == 1
    assert_accessible(desk, "dry run")

    desk.get_by_role("button", name=re.compile(r"Import \d+ rows")).click()
    desk.wait_for_url(f"**/imports/{job_id}")
    desk.get_by_text("Waiting for the importer").wait_for()
    assert desk.locator("progress").is_visible()

    # The worker starts: the page polls and shows how far it has got, also after a reload.
    job = db.session.get(ImportJob, job_id)
    job.status, job.processed_rows = "running", 2
    db.session.commit()
    desk.get_by_text(re.compile(r"Imported 2 of \d+ rows")).wait_for()
    assert_accessible(desk, "progress")
    desk.reload()
    desk.get_by_text(re.compile(r"Imported 2 of \d+ rows")).wait_for()
    assert desk.locator("progress").get_attribute("value") not in (None, "0")

    job.status = "queued"
    db.session.commit()
    services.run(job_id)
    db.session.commit()
    desk.get_by_role("heading", name="Import finished").wait_for(timeout=5_000)
    result = desk.locator("#job")
    assert "Created" in result.inner_text()
    assert desk.get_by_role("link", name=re.compile("Download the 1 rejected row")).is_visible()
    assert customers() == 3
    assert_accessible(desk, "result")

    with desk.expect_download() as download:
        desk.get_by_role("link", name=re.compile("Download the 1 rejected row")).click()
    assert download.value.suggested_filename == "old-system-rejected.csv"

    desk.get_by_role("button", name="Undo this import").click()
    desk.wait_for_url(f"**/imports/{job_id}")
    assert desk.get_by_role("heading", name="Import undone").is_visible()
    assert desk.get_by_text("Import undone: 2 customers removed").is_visible()
    assert desk.get_by_role("heading", name="What the undo did").is_visible()
    assert customers() == 1
    assert_accessible(desk, "after the undo")

    desk.get_by_role("link", name="All imports").click()
    desk.wait_for_url("**/customers/import")
    assert desk.get_by_role("cell", name="old-system.csv").is_visible()
    errors = [e for e in desk.js_errors if "status of 422" not in e]  # the form sent without a file
    assert not errors, errors
