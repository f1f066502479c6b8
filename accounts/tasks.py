"""Scheduled account work."""

from celery import shared_task

from accounts.services import deactivate_inactive_users


@shared_task(acks_late=True)
def deactivate_inactive_users_task() -> dict:
    report = deactivate_inactive_users()
    return {"deactivated": len(report.deactivated), "warned": len(report.warned)}
