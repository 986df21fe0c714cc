"""The task worker's entry point: `huey_consumer webapp.worker.huey --workers 2 --worker-type thread`.

It gives webapp/tasks.py the app factory its tasks run in, and imports each feature's tasks module so
the consumer knows every task.
"""

import webapp.imports.tasks  # noqa: F401  (registers the import's task)
from webapp import create_app, tasks

tasks.set_app_factory(create_app)
huey = tasks.huey
