"""Celery tasks of the eligibility app: thin wrappers around the bulk-check services."""

from celery import shared_task

from bulk.services import process_bulk_job, requeue_stuck_jobs


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_bulk_job_task(job_id: int) -> str:
    """Process (or resume) one bulk job; safe to run twice, the job is claimed first."""
    return process_bulk_job(job_id=job_id)


@shared_task(ignore_result=True)
def requeue_stuck_bulk_jobs_task() -> int:
    return requeue_stuck_jobs()
