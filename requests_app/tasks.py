"""Thin Celery wrappers around the request services."""

from celery import shared_task

from requests_app.expiry import expire_protections


@shared_task(acks_late=True)
def expire_protections_task() -> dict[str, int]:
    """Daily: expire launches whose protection ended and warn those about to end (re-runnable)."""
    report = expire_protections()
    return {"expired": len(report.expired), "warned": len(report.warned)}
