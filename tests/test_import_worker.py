"""The real task queue: a `huey_consumer` process runs a queued import (no immediate mode here)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from import_support import uploaded

from webapp.extensions import db
from webapp.imports import services
from webapp.models import Customer, ImportJob
from webapp.tasks import huey

CONSUMER = Path(sys.executable).with_name("huey_consumer")


def test_the_worker_process_runs_a_queued_import(app, business, make_user, tmp_path):
    manager = make_user("manager")
    queue_url = f"sqlite:///{tmp_path / 'huey.sqlite3'}"
    app.config.update(HUEY_URL=queue_url, HUEY_IMMEDIATE=False)
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HUEY_URL": queue_url,
        "SECRET_KEY": "worker-test-secret-key-worker-test",
    }
    worker = subprocess.Popen(
        [str(CONSUMER), "webapp.worker.huey", "--workers", "1", "--worker-type", "thread", "--delay", "0.1"],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        text = "first_name,email\n" + "".join(f"W{i},w{i}@example.com\n" for i in range(300))
        job = uploaded(business, manager, text)
        services.queue(job, manager)
        assert not huey.immediate and len(huey) == 1  # waiting in the queue, not run here
        deadline = time.monotonic() + 60
        status = "queued"
        while time.monotonic() < deadline and status not in ("done", "failed"):
            time.sleep(0.2)
            db.session.rollback()
            status = db.session.scalar(db.select(ImportJob.status).where(ImportJob.id == job.id))
        db.session.expire_all()
        job = db.session.get(ImportJob, job.id)
        assert (job.status, job.error) == ("done", None)
        assert job.created == 300 and job.processed_rows == 300
        assert db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 300
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        app.config.update(HUEY_URL=None, HUEY_IMMEDIATE=None)
    assert "run_import" in output, output
