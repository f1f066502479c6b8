"""Claiming a bulk job: a lease a live worker renews and a dead one lets run out.

A claim is a conditional UPDATE (queued, or running without a sign of life for a whole lease)
that bumps the job's `attempts`: that number is the claim's token, and every later write of the
run is guarded by it, so a run that lost its job stops writing. LeaseKeeper renews the heartbeat
from a thread every third of BULK_LEASE_SECONDS, whatever a chunk's length.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Length
from django.utils import timezone
from django.utils.translation import gettext as _

from bulk.models import BulkCheckJob
from bulk.reports import email_failure

logger = logging.getLogger(__name__)

Status = BulkCheckJob.Status

# A job whose worker keeps dying is given up after this many starts.
MAX_ATTEMPTS = 5


def failure_message() -> str:
    return _(
        "We could not finish checking this file because of an unexpected error. "
        "Please upload it again; if it happens again, contact support."
    )


def lease_expired_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.BULK_LEASE_SECONDS)


def _claimable(now: datetime) -> Q:
    """Queued, or running without a sign of life for a whole lease (its worker is gone)."""
    return Q(status=Status.QUEUED) | Q(
        status=Status.RUNNING, heartbeat_at__lt=lease_expired_before(now)
    )


def held_by_a_live_worker(job_id: int) -> bool:
    now = timezone.now()
    return BulkCheckJob.objects.filter(
        pk=job_id, status=Status.RUNNING, heartbeat_at__gte=lease_expired_before(now)
    ).exists()


class LeaseKeeper:
    """Renews a claimed job's lease (its heartbeat) every third of a lease, from a thread, so
    a live worker keeps its job however long a chunk takes and a dead one loses it in
    seconds. Renewal stops once the claim is no longer this run's, and while the run has
    committed no chunk for BULK_STUCK_AFTER_SECONDS (a hung run loses its job, as before)."""

    def __init__(self, job_id: int, *, token: int) -> None:
        self.job_id, self.token = job_id, token
        self.last_progress = time.monotonic()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"bulk-lease-{job_id}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        interval = max(settings.BULK_LEASE_SECONDS / 3, 0.2)
        try:
            while not self.stopped.wait(interval):
                if time.monotonic() - self.last_progress > settings.BULK_STUCK_AFTER_SECONDS:
                    continue  # no chunk for too long: let the lease run out
                if not BulkCheckJob.objects.filter(
                    pk=self.job_id, status=Status.RUNNING, attempts=self.token
                ).update(heartbeat_at=timezone.now()):
                    return
        except Exception:
            logger.exception("Bulk job %s: the lease could not be renewed.", self.job_id)
        finally:
            connections.close_all()  # this thread's own connections

    def progressed(self) -> None:
        self.last_progress = time.monotonic()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


def claim(job_id: int) -> BulkCheckJob | None:
    """Take the job (queued, or running with a stale heartbeat); None when it is not ours."""
    now = timezone.now()
    jobs = BulkCheckJob.objects.filter(pk=job_id)
    gave_up = jobs.filter(_claimable(now), attempts__gte=MAX_ATTEMPTS).update(
        status=Status.FAILED, finished_at=now, error_message=failure_message()
    )
    if gave_up:
        logger.error("Bulk job %s was given up after %s attempts.", job_id, MAX_ATTEMPTS)
        email_failure(job_id)
        return None
    claimed = jobs.filter(_claimable(now), attempts__lt=MAX_ATTEMPTS).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
        heartbeat_at=now,
    )
    if not claimed:
        return None
    return (
        jobs.select_related("partner", "created_by")
        .defer("input_data", "report_data")
        .annotate(input_size=Length("input_data"))
        .get()
    )


# The one statement outside eligibility/sql written by hand: a lock, not a query, and bulk's own.
# The key space of this lock (PostgreSQL advisory locks are two integers: space, job).
_CHUNK_LOCK_SPACE = 0x42554C4B  # "BULK"


def one_chunk_at_a_time(job_id: int) -> None:
    """Hold, until the current transaction ends, the job's chunk lock (PostgreSQL).

    Two runs of one job (one taken over while still alive) then write their chunks one after
    the other, and the second sees what the first committed. A lock apart from the job's row,
    so that renewing the lease never waits for a chunk. SQLite (the quickstart, one process)
    allows one writing transaction at a time anyway.
    """
    connection = connections[BulkCheckJob.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHUNK_LOCK_SPACE, job_id])


def fail(job: BulkCheckJob, *, token: int, message: str) -> None:
    """Mark the job failed (if this run still holds it) and tell the user."""
    updated = BulkCheckJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=token).update(
        status=Status.FAILED, finished_at=timezone.now(), error_message=message
    )
    if updated:
        email_failure(job.pk)
