"""Celery tasks of the bulk app.

The processing task lives beside the processing, in bulk.worker (the services queue it from
there without importing this module); it is imported here so that Celery's autodiscovery of
`tasks` modules registers it. The beat task keeps stuck jobs moving; a starting worker sends
the unfinished jobs again (a whole worker that died took their messages with it).
"""

from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.db import connections

from bulk.services import requeue_stuck_jobs, resume_unfinished_jobs
from bulk.worker import process_bulk_job_task

__all__ = ["process_bulk_job_task", "requeue_stuck_bulk_jobs_task"]


@shared_task(ignore_result=True)
def requeue_stuck_bulk_jobs_task() -> int:
    return requeue_stuck_jobs()


@worker_ready.connect
def _resume_unfinished_jobs(**kwargs: Any) -> None:
    try:
        resume_unfinished_jobs()
    finally:
        connections.close_all()  # the worker's main process keeps no connection open
