"""CSV import screens: upload, mapping, preview, dry run, run, progress, result, rejected rows, undo."""

import io
import re

import pytest
from sqlalchemy import func, select

from helpers import HX, HX_BOOSTED
from webapp.extensions import db
from webapp.imports import services
from webapp.models import Customer, ImportJob

CSV = (
    "First name,Surname,E-mail,Mobile,DOB,Labels\n"
    "Ann,Lee,ann.lee@example.com,07400 123456,1985-04-23,VIP\n"
    "Bob,Ng,bob.ng@example.com,+44 7400 123457,1990-04-23,\n"
    "Cara,Newname,cara@example.com,,,\n"
    "Ann,Lee,ann.lee@example.com,07400 123456,1985-04-23,VIP\n"
    ",,,,,\n"
    ",,not-an-email,12,,\n"
)


def post_file(client, content: bytes | str, name: str = "customers.csv", headers=None):
    """POST the upload form with one file."""
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/customers/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def job_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ImportJob))


def customer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def job_id_of(response) -> int:
    """The job a redirect goes to."""
    assert response.status_code == 303, response.status_code
    return int(re.search(r"/imports/(\d+)$", response.headers["Location"]).group(1))


def mapping_body(job: ImportJob, action: str, policy: str = "update", **overrides) -> dict:
    """The mapping form as the page sends it: the job's guessed mapping, a policy and an action."""
    saved = {str(k): v for k, v in job.mapping.items()}
    body = {f"col_{i}": saved.get(str(i), "ignore") for i in range(len(job.headers))}
    return {**body, "policy": policy, "action": action, **overrides}


def finish(job_id: int) -> ImportJob:
    """Run a queued job to the end if the queue has not already (the queue may run in-process in tests)."""
    db.session.expire_all()
    job = db.session.get(ImportJob, job_id)
    if job.status == "queued":
        services.run(job_id)
        db.session.commit()
        db.session.expire_all()
        job = db.session.get(ImportJob, job_id)
    return job


@pytest.fixture
def manager(login_as):
    return login_as("manager")


@pytest.fixture
def uploaded(manager):
    """A job uploaded by the manager, at its mapping step."""
    job_id = job_id_of(post_file(manager, CSV))
    return db.session.get(ImportJob, job_id)


# --- who may ----------------------------------------------------------------------------------------


def job_routes(job_id: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/imports/{job_id}"),
        ("post", f"/imports/{job_id}/mapping"),
        ("post", f"/imports/{job_id}/undo"),
        ("get", f"/imports/{job_id}/rejected.csv"),
    ]


def test_receptionists_are_refused_everywhere(login_as, uploaded):
    desk = login_as("receptionist")
    assert desk.get("/customers/import").status_code == 403
    assert post_file(desk, CSV).status_code == 403
    for method, url in job_routes(uploaded.id):
        assert getattr(desk, method)(url).status_code == 403, url
    assert job_count() == 1


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_managers_and_owners_reach_every_screen(login_as, role):
    client = login_as(role)
    page = client.get("/customers/import")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<input accept="\.csv,text/csv"[^>]* id="file" name="file"[^>]* type="file"', html)
    assert '<label class="label" for="file">CSV file</label>' in html
    assert "Up to 100 MB" in html
    job_id = job_id_of(post_file(client, CSV))
    assert client.get(f"/imports/{job_id}").status_code == 200
    assert client.post(f"/imports/{job_id}/mapping", data={"action": "preview"}).status_code in (200, 422)


def test_another_business_job_is_404(login_as, make_business, uploaded):
    other = login_as("owner", make_business("Elsewhere"))
    for method, url in job_routes(uploaded.id):
        assert getattr(other, method)(url).status_code == 404, url
    for url in ("/imports/0", "/imports/999999", "/imports/99999999999999999999"):
        assert other.get(url).status_code == 404, url
    db.session.refresh(uploaded)
    assert uploaded.status == "uploaded"


def test_the_customer_list_links_to_import_for_managers_only(login_as):
    assert b'href="/customers/import"' in login_as("manager").get("/customers").data
    assert b'href="/customers/import"' not in login_as("receptionist").get("/customers").data


# --- upload -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"", "empty.csv", "empty"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "book.xlsx", "Save it as CSV"),
        (b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 64, "x.csv", "not a text file"),
        (b"First name,Email\n", "header.csv", "no customers"),
    ],
)
def test_a_bad_file_is_a_message_on_the_file_field(manager, content, name, message):
    r = post_file(manager, content, name)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    error = re.search(r'<p class="error" id="file-error">(.*?)</p>', html, re.S)
    assert error and message.lower() in error.group(1).lower(), html
    assert 'aria-invalid="true"' in html and "Recent imports" in html
    assert job_count() == 0


def test_no_file_is_a_message_on_the_field(manager):
    r = manager.post("/customers/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert b"Choose the CSV file to import." in r.data
    r = manager.post("/customers/import", data={"file": "not a file"})
    assert r.status_code == 422 and b"Choose the CSV file to import." in r.data
    assert job_count() == 0


def multipart(content: bytes, name: str = "big.csv") -> bytes:
    """A multipart body made here (the test client spools a dict's file to a temporary file it leaves
    open on a 413)."""
    return (
        f'--b\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode()
        + b"Content-Type: text/csv\r\n\r\n"
        + content
        + b"\r\n--b--\r\n"
    )


@pytest.fixture
def small_limits(app):
    """Every body limited to 1 MB, the import's upload to 3 MB (instead of 16 and 100)."""
    saved = app.config.get("MAX_CONTENT_LENGTH"), app.config.get("IMPORT_MAX_BYTES")
    app.config["MAX_CONTENT_LENGTH"], app.config["IMPORT_MAX_BYTES"] = 1024 * 1024, 3 * 1024 * 1024
    yield
    app.config["MAX_CONTENT_LENGTH"], app.config["IMPORT_MAX_BYTES"] = saved


def test_the_upload_takes_files_above_the_body_limit_of_other_forms(manager, small_limits):
    rows = b"".join(b"Ann%d,ann%d@example.com\n" % (i, i) for i in range(80_000))  # about 2 MB
    r = manager.post(
        "/customers/import",
        data=multipart(b"First name,Email\n" + rows),
        content_type="multipart/form-data; boundary=b",
    )
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    assert job_count() == 1


def test_a_file_over_the_limit_is_a_clear_message_not_a_413_page(manager, small_limits):
    too_big = b"First name\n" + b"x" * (4 * 1024 * 1024)
    r = manager.post(
        "/customers/import", data=multipart(too_big), content_type="multipart/form-data; boundary=b"
    )
    assert r.status_code == 413
    html = r.get_data(as_text=True)
    assert "Too large" not in html  # the generic error page's title
    error = re.search(r'<p class="error" id="file-error">(.*?)</p>', html, re.S).group(1)
    assert "3 MB" in error and "flask import-customers" in error
    assert 'id="file" name="file"' in html
    assert job_count() == 0


def test_only_managers_get_the_uploads_larger_limit(login_as, client, small_limits):
    body = multipart(b"First name\n" + b"x" * (2 * 1024 * 1024))
    for who in (client, login_as("receptionist")):
        r = who.post("/customers/import", data=body, content_type="multipart/form-data; boundary=b")
        assert r.status_code == 413 and b"Too large" in r.data  # refused at 1 MB, before anything else
    assert job_count() == 0


def test_a_large_request_elsewhere_keeps_the_generic_page(manager, uploaded):
    r = manager.post(f"/imports/{uploaded.id}/mapping", data={"notes": "x" * (17 * 1024 * 1024)})
    assert r.status_code == 413 and b"Too large" in r.data


def test_upload_goes_to_the_mapping_step_and_lists_recent_imports(manager, uploaded):
    assert uploaded.status == "uploaded" and uploaded.filename == "customers.csv"
    page = manager.get("/customers/import").get_data(as_text=True)
    assert "Recent imports" in page and "customers.csv" in page and f"/imports/{uploaded.id}" in page
    assert manager.user.display_name in page


def test_a_file_name_with_folders_and_control_characters_is_cleaned(manager):
    job_id = job_id_of(post_file(manager, CSV, "C:/exports/old\x07 book.csv"))
    assert db.session.get(ImportJob, job_id).filename == "old book.csv"


# --- mapping, preview, dry run ------------------------------------------------------------------------


def test_the_mapping_step_shows_a_select_per_column_with_the_guess(manager, uploaded):
    html = manager.get(f"/imports/{uploaded.id}").get_data(as_text=True)
    assert "Match the columns" in html
    for i, header in enumerate(uploaded.headers):
        assert f'<label for="col_{i}">{header}</label>' in html
        guessed = uploaded.mapping.get(str(i), "ignore")
        select_html = re.search(rf'<select id="col_{i}" name="col_{i}">(.*?)</select>', html, re.S).group(1)
        assert f'value="{guessed}" selected' in select_html
        assert "Ignore this column" in select_html
    assert uploaded.mapping.get("2") == "email"
    samples = re.search(r'<select id="col_2".*?<div class="samples">(.*?)</div>', html, re.S).group(1)
    assert samples.count('class="sample"') == 3
    assert "ann.lee@example.com" in samples and "bob.ng@example.com" in samples
    for policy in ("skip", "update", "fill"):
        assert f'value="{policy}"' in html
    assert "Empty cells in the file change nothing." in html
    assert "Import 6 rows" in html or f"Import {uploaded.total_rows} rows" in html


def test_preview_as_a_page_and_as_a_fragment(manager, uploaded):
    body = mapping_body(uploaded, "preview")
    page = manager.post(f"/imports/{uploaded.id}/mapping", data=body)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "Preview: the first" in html and "ann.lee@example.com" in html
    fragment = manager.post(f"/imports/{uploaded.id}/mapping", data=body, headers=HX)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and "Preview: the first" in text
    assert "Rejected" in text  # the row with no name and a bad email
    assert customer_count() == 0


def test_dry_run_counts_and_writes_nothing(manager, uploaded, make_customer):
    make_customer(first_name="Cara", last_name="Old", email="cara@example.com")
    r = manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "dry_run"), headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Dry run: what the import would do" in html
    counts = services.dry_run(uploaded)
    assert counts.updated == 1 and counts.repeated == 1 and counts.rejected >= 1
    for label in ("Created", "Updated", "Skipped", "Rejected", "Repeated"):
        assert label in html
    assert customer_count() == 1
    db.session.refresh(uploaded)
    assert uploaded.status == "uploaded" and uploaded.policy == "update"


def test_two_columns_on_one_field_is_refused(manager, uploaded):
    r = manager.post(
        f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run", col_0="email", col_2="email")
    )
    assert r.status_code == 422
    assert b'class="form-errors"' in r.data
    db.session.refresh(uploaded)
    assert uploaded.status == "uploaded" and customer_count() == 0


def test_unknown_field_or_policy_is_a_message_on_it(manager, uploaded):
    r = manager.post(
        f"/imports/{uploaded.id}/mapping",
        data=mapping_body(uploaded, "preview", col_1="password", policy="x"),
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="col_1-error"' in html and "Choose a field from the list" in html
    assert 'id="policy-error"' in html


# --- run, progress, result, rejected rows, undo -------------------------------------------------------


def test_the_whole_flow(manager, uploaded, make_customer):
    cara = make_customer(first_name="Cara", last_name="Old", email="cara@example.com")
    r = manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run"))
    assert r.status_code == 303 and r.headers["Location"] == f"/imports/{uploaded.id}"
    job = finish(uploaded.id)
    assert job.status == "done", job.error
    assert (job.created, job.updated, job.repeated) == (2, 1, 1) and job.rejected >= 1

    page = manager.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Import finished" in page and 'hx-trigger="every 1s"' not in page
    assert "Download the" in page and f"/imports/{job.id}/rejected.csv" in page
    assert "Undo this import" in page and "/customers" in page
    db.session.refresh(cara)
    assert cara.last_name == "Newname"

    csv = manager.get(f"/imports/{job.id}/rejected.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert 'filename="customers-rejected.csv"' in csv.headers["Content-Disposition"]
    assert "reason" in csv.get_data(as_text=True).lower()
    assert "not-an-email" in csv.get_data(as_text=True)

    undone = manager.post(f"/imports/{job.id}/undo")
    assert undone.status_code == 303 and undone.headers["Location"] == f"/imports/{job.id}"
    html = manager.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Import undone" in html and "What the undo did" in html
    assert "2 customers the import created were removed" in html
    db.session.refresh(cara)
    assert cara.last_name == "Old" and customer_count() == 1

    again = manager.post(f"/imports/{job.id}/undo")
    assert again.status_code == 303
    follow = manager.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "This import cannot be undone." in follow and "This import was undone" in follow
    assert f'action="/imports/{job.id}/undo"' not in follow
    assert customer_count() == 1


def test_undo_lists_customers_changed_since(manager, uploaded):
    manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run"))
    finish(uploaded.id)
    ann = db.session.scalar(select(Customer).where(Customer.email_normalized == "ann.lee@example.com"))
    from webapp.customers.services import update_customer

    update_customer(ann, manager.user, {"notes": "Edited after the import"}, expected_version=ann.version)
    db.session.commit()
    assert manager.post(f"/imports/{uploaded.id}/undo").status_code == 303
    html = manager.get(f"/imports/{uploaded.id}").get_data(as_text=True)
    assert "Customers the undo left alone" in html and "Ann Lee" in html
    assert db.session.get(Customer, ann.id) is not None


def test_progress_page_polls_until_done(manager, uploaded):
    uploaded.status, uploaded.total_rows, uploaded.processed_rows = "running", 200, 50
    db.session.commit()
    page = manager.get(f"/imports/{uploaded.id}").get_data(as_text=True)
    assert "<progress" in page and 'hx-trigger="every 1s"' in page and 'aria-live="polite"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert ">Refresh</a>" in page
    poll = manager.get(f"/imports/{uploaded.id}", headers=HX)
    text = poll.get_data(as_text=True)
    assert "<html" not in text and 'hx-trigger="every 1s"' in text and "<progress" in text
    boosted = manager.get(f"/imports/{uploaded.id}", headers=HX_BOOSTED).get_data(as_text=True)
    assert "<html" in boosted
    uploaded.status = "queued"
    db.session.commit()
    assert b"Waiting for the importer" in manager.get(f"/imports/{uploaded.id}", headers=HX).data


def test_the_last_poll_brings_the_result_and_stops(manager, uploaded):
    manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run"))
    finish(uploaded.id)
    text = manager.get(f"/imports/{uploaded.id}", headers=HX).get_data(as_text=True)
    assert "<html" not in text and "Import finished" in text and "every 1s" not in text


def test_a_failed_import_says_why(manager, uploaded):
    uploaded.status, uploaded.error = "failed", "The database went away at row 12."
    db.session.commit()
    html = manager.get(f"/imports/{uploaded.id}").get_data(as_text=True)
    assert "Import failed" in html and "The database went away at row 12." in html
    assert "Undo this import" not in html


def test_the_mapping_of_a_started_import_cannot_change(manager, uploaded):
    manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run"))
    r = manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run"))
    assert r.status_code == 303
    assert b"can no longer change" in manager.get(f"/imports/{uploaded.id}").data


def test_rejected_rows_of_an_unfinished_import_are_404(manager, uploaded):
    assert manager.get(f"/imports/{uploaded.id}/rejected.csv").status_code == 404


def test_undo_needs_its_form(manager, uploaded):
    r = manager.post(f"/imports/{uploaded.id}/undo", data='{"a": 1}', content_type="application/json")
    assert r.status_code == 400


def test_undo_of_an_unfinished_import_is_refused(manager, uploaded):
    r = manager.post(f"/imports/{uploaded.id}/undo")
    assert r.status_code == 303
    assert b"This import cannot be undone." in manager.get(f"/imports/{uploaded.id}").data


def test_the_mapping_step_opens_with_a_preview_of_the_guess(manager, uploaded):
    html = manager.get(f"/imports/{uploaded.id}").get_data(as_text=True)
    assert "Preview: the first" in html and "bob.ng@example.com" in html
    assert customer_count() == 0


def test_a_poll_of_a_job_sent_back_to_its_mapping_reloads_the_page(manager, uploaded):
    r = manager.get(f"/imports/{uploaded.id}", headers={**HX, "HX-Target": "job"})
    assert r.headers["HX-Redirect"] == f"/imports/{uploaded.id}"


def test_a_failed_import_can_go_back_to_its_mapping_and_run_again(manager, uploaded):
    uploaded.status, uploaded.error = "failed", "The import stopped at line 3 and nothing was saved."
    db.session.commit()
    page = manager.get(f"/imports/{uploaded.id}?step=mapping").get_data(as_text=True)
    assert "Match the columns" in page
    r = manager.post(f"/imports/{uploaded.id}/mapping", data=mapping_body(uploaded, "run"))
    assert r.status_code == 303
    assert finish(uploaded.id).status == "done"


def test_upload_and_mapping_with_csrf_on(csrf_app, manager):
    from helpers import csrf_token_from

    token = csrf_token_from(manager.get("/customers/import").data)
    r = manager.post(
        "/customers/import",
        data={"csrf_token": token, "file": (io.BytesIO(CSV.encode()), "customers.csv")},
        content_type="multipart/form-data",
    )
    job = db.session.get(ImportJob, job_id_of(r))
    page = manager.get(f"/imports/{job.id}")
    body = {**mapping_body(job, "dry_run"), "csrf_token": csrf_token_from(page.data)}
    assert manager.post(f"/imports/{job.id}/mapping", data=body).status_code == 200
    refused = manager.post(f"/imports/{job.id}/mapping", data=mapping_body(job, "run"))
    assert refused.status_code == 400
    assert db.session.get(ImportJob, job.id).status == "uploaded"


def test_a_file_whose_columns_are_not_recognised_says_what_to_do(manager):
    job_id = job_id_of(
        post_file(manager, "Col A,Col B\nAnn,ann.col@example.com\nBob,bob.col@example.com\n", "odd.csv")
    )
    r = manager.get(f"/imports/{job_id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'class="form-errors"' in html and "Preview: the first" not in html
    body = {"col_0": "first_name", "col_1": "email", "policy": "skip", "action": "preview"}
    preview = manager.post(f"/imports/{job_id}/mapping", data=body, headers=HX)
    assert preview.status_code == 200 and b"Ann" in preview.data


def test_the_upload_form_as_a_fragment(manager):
    text = manager.get("/customers/import", headers=HX).get_data(as_text=True)
    assert "<html" not in text and 'enctype="multipart/form-data"' in text and "Recent imports" not in text
    boosted = manager.get("/customers/import", headers=HX_BOOSTED).get_data(as_text=True)
    assert "<html" in boosted and "Recent imports" in boosted
