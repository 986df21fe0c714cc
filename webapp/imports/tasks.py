"""The import's task: `services.run` in the worker (webapp/tasks.py holds the Huey instance)."""

from flask import current_app

from webapp.tasks import huey, in_app_context


@huey.task(retries=0, context=False)
@in_app_context
def run_import(job_id: int) -> dict | None:
    """Run one import; the job row records the outcome (a failure included), so a failed import is not
    a failed task to retry: the error is logged and the job says "failed" with it."""
    from webapp.imports import services

    try:
        return services.run(job_id)._asdict()
    except services.ImportFailed as e:
        current_app.logger.warning("import %s failed: %s", job_id, e.message)
        return None
