"""Bulk-check use cases: start a job from an upload, and keep jobs moving (retry, re-queue).

Queuing: the processing task is defined beside the processing (bulk.worker), and this module
queues it from there; bulk.tasks only registers the tasks and runs the beat job. Imports go one
way, tasks → services → worker, so nothing needs a function-local import.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.rules import NoActivePartner, acting_partner
from bulk.csv import UploadRejected, inspect_upload
from bulk.models import BulkCheckJob
from bulk.worker import process_bulk_job_task
from core import outbox

logger = logging.getLogger(__name__)

Mode = BulkCheckJob.Mode
Status = BulkCheckJob.Status


def mode_refused_message() -> str:
    return _("“Check and launch” is available to premium partners only. Choose “Check only”.")


def size_limit_message() -> str:
    return _("The file is larger than %(max)s. Split it into smaller files.") % {
        "max": filesizeformat(settings.BULK_MAX_BYTES)
    }


def allowed_modes(partner: Partner) -> list[str]:
    """What a partner may ask of a bulk file: launching in bulk is for premium partners."""
    modes = [Mode.CHECK.value]
    if partner.is_premium:
        modes.append(Mode.CHECK_AND_LAUNCH.value)
    return modes


def start_bulk_check(*, user: User, filename: str, data: bytes, mode: str) -> BulkCheckJob:
    """Check the upload at once (raise UploadRejected), store it and queue its processing.

    The job belongs to the partner the user acts for now; the worker acts for that partner.
    """
    try:
        partner = acting_partner(user)
    except NoActivePartner as refused:
        raise UploadRejected(refused.message) from refused
    if mode not in allowed_modes(partner):
        raise UploadRejected(mode_refused_message())
    if len(data) > settings.BULK_MAX_BYTES:
        raise UploadRejected(size_limit_message())
    layout = inspect_upload(data, max_rows=settings.BULK_MAX_ROWS)
    with transaction.atomic():
        job = BulkCheckJob.objects.create(
            partner=partner,
            created_by=user,
            mode=mode,
            filename=(filename or "")[-255:],
            input_data=data,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            total_rows=layout.row_count,
            counts={},
        )
        queue_job(job.pk)
    return job


def queue_job(job_id: int) -> None:
    """Record the job's processing in the outbox, in the current transaction (core.outbox):
    it is sent to a worker once that commits, or as soon as the broker answers again."""
    outbox.enqueue(process_bulk_job_task, job_id=job_id)


def requeue_stuck_jobs() -> int:
    """Send again the jobs whose worker died (stale heartbeat) or whose message was lost.

    A stale running job goes back to `queued` first, so a worker that was only slow notices
    at its next chunk that the job is no longer its own. Returns how many were sent again.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.BULK_STUCK_AFTER_SECONDS)
    stuck = (
        Q(status=Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=Status.QUEUED, heartbeat_at__lt=stale)
        | Q(status=Status.QUEUED, heartbeat_at__isnull=True, created_at__lt=stale)
    )
    sent = 0
    for pk in BulkCheckJob.objects.filter(stuck).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            # heartbeat_at doubles as "sent at" while queued, so a job is re-sent once per period.
            if BulkCheckJob.objects.filter(stuck, pk=pk).update(
                status=Status.QUEUED, heartbeat_at=now
            ):
                queue_job(pk)
                sent += 1
    if sent:
        logger.warning("Re-queued %s stuck bulk job(s).", sent)
    return sent


def resume_unfinished_jobs() -> int:
    """Send every queued or running job again (a worker calls this when it starts).

    A worker killed as a whole takes with it the messages it had received; the broker hands
    them out again only after its visibility timeout (an hour). Sending the unfinished jobs
    again at start-up resumes them at once; extra deliveries are harmless, since a job is
    claimed first and one that a live worker holds is tried again when its lease runs out.
    """
    with transaction.atomic():
        unfinished = list(
            BulkCheckJob.objects.filter(status__in=[Status.QUEUED, Status.RUNNING])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for pk in unfinished:
            queue_job(pk)
    if unfinished:
        logger.info("Sent %s unfinished bulk job(s) again at worker start-up.", len(unfinished))
    return len(unfinished)


def retry_failed_jobs(jobs: QuerySet[BulkCheckJob]) -> int:
    """Staff: queue failed jobs again; they resume after their last committed chunk."""
    sent = 0
    for pk in jobs.filter(status=Status.FAILED).values_list("pk", flat=True):
        with transaction.atomic():
            if BulkCheckJob.objects.filter(pk=pk, status=Status.FAILED).update(
                status=Status.QUEUED,
                attempts=0,
                error_message="",
                finished_at=None,
                heartbeat_at=timezone.now(),
            ):
                queue_job(pk)
                sent += 1
    return sent
