"""`flask import-customers`: the same import from a terminal, with --policy, --dry-run and --map."""

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Customer, ImportJob

FILE = (
    "Given name;Family name;Contact;Handynummer;Geburtstag\n"
    "Jana;Novak;jana@example.com;07400 123456;23.04.1985\n"
    "Petr;Svoboda;petr@example.com;;\n"
    "Bad;Row;not-an-email;;\n"
)


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import-customers", *args])


def book(business):
    return {
        c.email: c for c in db.session.scalars(select(Customer).where(Customer.business_id == business.id))
    }


def test_import_with_maps_progress_and_counts(app, business, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(FILE.encode())
    r = run(app, str(path), "--business", business.name.upper(), "--map", "Contact=email", "--map", "4=phone",
            "--map", "Geburtstag=birthday")  # fmt: skip
    assert r.exit_code == 0, r.output + r.stderr
    assert "Importing" in r.stderr  # the progress bar
    assert r.stdout.strip().endswith("2 created, 0 updated, 0 skipped, 1 rejected, 0 repeated")
    db.session.expire_all()
    jana = book(business)["jana@example.com"]
    assert (jana.first_name, jana.last_name, jana.phone) == ("Jana", "Novak", "+447400123456")
    assert str(jana.date_of_birth) == "1985-04-23"
    job = db.session.scalar(select(ImportJob))
    assert job.status == "done" and job.created_by_id is None and job.filename == "export.csv"

    path.write_bytes(FILE.replace("Svoboda", "Svobodová").encode())
    r = run(app, str(path), "--business", business.name, "--policy", "update", "--map", "Contact=email")
    assert r.exit_code == 0, r.output + r.stderr
    assert "0 created, 1 updated, 1 skipped, 1 rejected" in r.stdout
    db.session.expire_all()
    assert book(business)["petr@example.com"].last_name == "Svobodová"


def test_dry_run_writes_nothing(app, business, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(FILE.encode())
    r = run(app, str(path), "--business", business.name, "--dry-run", "--map", "Contact=email")
    assert r.exit_code == 0, r.output + r.stderr
    assert "Dry run, nothing written: 2 created" in r.stdout
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_clear_errors(app, business, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(FILE.encode())
    r = run(app, str(path), "--business", "Nobody")
    assert r.exit_code != 0 and "No business called 'Nobody'" in r.stderr
    r = run(app, str(path), "--business", business.name, "--map", "Nope=email")
    assert r.exit_code != 0 and "no column 'Nope'" in r.stderr
    r = run(app, str(path), "--business", business.name, "--map", "Contact=password")
    assert r.exit_code != 0 and "unknown field 'password'" in r.stderr
    r = run(app, str(path), "--business", business.name, "--map", "Contact=email", "--map", "1=email")
    assert r.exit_code != 0 and "both mapped to “Email”" in r.stderr
    (tmp_path / "empty.csv").write_bytes(b"")
    r = run(app, str(tmp_path / "empty.csv"), "--business", business.name)
    assert r.exit_code != 0 and "The file is empty" in r.stderr
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
