"""Celery tasks of the bulk app.

The processing task lives beside the processing, in bulk.worker (the services queue it from
there without importing this module); it is imported here so that Celery's autodiscovery of
`tasks` modules registers it. The beat task keeps stuck jobs moving.
"""

from celery import shared_task

from bulk.services import requeue_stuck_jobs
from bulk.worker import process_bulk_job_task

__all__ = ["process_bulk_job_task", "requeue_stuck_bulk_jobs_task"]


@shared_task(ignore_result=True)
def requeue_stuck_bulk_jobs_task() -> int:
    return requeue_stuck_jobs()
