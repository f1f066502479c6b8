"""Project-wide Celery tasks."""

from celery import shared_task

from hub.emails import deliver


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_email_task(payload: dict) -> None:
    deliver(payload)
