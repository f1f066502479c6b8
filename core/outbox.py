"""A transactional outbox: tasks recorded in the database with the data they are about, then
published to Celery by a relay.

Why: a use case that committed its data must not lose its e-mails or its bulk job because the
broker was away at that moment (the user would be told it failed, although it was recorded).
`enqueue` writes a row in the caller's transaction; once it commits, `relay` tries to publish
it at once (the usual case, no delay); if the broker does not answer, the row waits, and the
`core.relay_outbox` beat task (every few seconds, and when a worker starts) publishes the
backlog as soon as the broker answers again. Each row is taken with a conditional UPDATE (a
short lease), so two relays never publish it at the same time; a relay that dies after
publishing can publish it again, so the tasks are safe to run twice (e-mails are sent once per
row: see core.emails; bulk jobs are claimed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery import current_app as celery_app
from celery.signals import worker_ready
from django.db import transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

# How long a relay holds a row it is publishing before another relay may take it.
LEASE = timedelta(seconds=30)
# How many rows one relay run publishes (the next run takes the rest).
BATCH = 500
# A backlog older than this makes /healthz report the outbox as failing.
STALE_AFTER = timedelta(minutes=2)


def enqueue(task: Task, *, payload: Any = None, **kwargs: Any) -> OutboxMessage:
    """Record `task(**kwargs)` in the current transaction; it is published after the commit.

    `payload` is data the task reads from the row itself (an e-mail), instead of carrying it
    through the broker; such a task receives `outbox_id`.
    """
    message = OutboxMessage.objects.create(task=task.name, kwargs=kwargs, payload=payload)
    if payload is not None:
        message.kwargs = {**kwargs, "outbox_id": message.pk}
        OutboxMessage.objects.filter(pk=message.pk).update(kwargs=message.kwargs)
    transaction.on_commit(lambda: relay(ids=[message.pk]))
    return message


def relay(*, ids: list[int] | None = None, limit: int = BATCH) -> int:
    """Publish the due rows (or only `ids`), oldest first; stop at the first that fails.

    Never raises when a broker is configured: a failure leaves the row due for the next run.
    Without one (eager Celery: the quickstart and the tests) the task runs here, in-process.
    """
    due = OutboxMessage.objects.filter(
        published_at__isnull=True, next_attempt_at__lte=timezone.now()
    )
    if ids is not None:
        due = due.filter(pk__in=ids)
    published = 0
    for pk in list(due.order_by("pk").values_list("pk", flat=True)[:limit]):
        message = _take(pk)
        if message is None:
            continue  # another relay has it
        if not _publish(message):
            break  # the broker is away: the rest waits for the next run
        published += 1
    return published


def _take(pk: int) -> OutboxMessage | None:
    now = timezone.now()
    taken = OutboxMessage.objects.filter(
        pk=pk, published_at__isnull=True, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not taken:
        return None
    return OutboxMessage.objects.only("pk", "task", "kwargs").get(pk=pk)


def _publish(message: OutboxMessage) -> bool:
    task = celery_app.tasks[message.task]
    rows = OutboxMessage.objects.filter(pk=message.pk)
    if celery_app.conf.task_always_eager:
        # No broker: the task runs now, and its own errors are raised as they always were.
        rows.update(published_at=timezone.now())
        task.apply_async(kwargs=message.kwargs)
        return True
    try:
        task.apply_async(kwargs=message.kwargs, task_id=f"outbox-{message.pk}", retry=False)
    except Exception as exc:  # noqa: BLE001 - whatever the broker says, the row waits
        logger.warning("Outbox message %s not published yet: %r", message.pk, exc)
        rows.update(next_attempt_at=timezone.now(), last_error=repr(exc)[:300])
        return False
    rows.update(published_at=timezone.now(), last_error="")
    return True


@shared_task(name="core.relay_outbox", ignore_result=True)
def relay_outbox_task() -> int:
    """Publish the backlog (beat runs this every few seconds; a starting worker, once)."""
    return relay()


@worker_ready.connect
def _relay_when_a_worker_starts(**kwargs: Any) -> None:
    relay_outbox_task.delay()


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_seconds: int

    @property
    def stale(self) -> bool:
        return self.oldest_seconds > STALE_AFTER.total_seconds()


def backlog() -> Backlog:
    """How many recorded tasks wait for the broker, and how long the oldest has waited."""
    found = OutboxMessage.objects.filter(published_at__isnull=True).aggregate(
        pending=Count("pk"), oldest=Min("created_at")
    )
    oldest = found["oldest"]
    waited = int((timezone.now() - oldest).total_seconds()) if oldest else 0
    return Backlog(pending=found["pending"], oldest_seconds=max(waited, 0))
