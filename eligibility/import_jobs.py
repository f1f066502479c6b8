"""Registry files uploaded in the admin, imported in the background by the Celery worker.

The upload is checked at once (size, encoding, header) and stored; the worker then runs the
one import service, `eligibility.importer.import_companies` — the same rules, counts and
single transaction as `manage.py import_companies`. The job's status, counts and list of
invalid lines are saved in that transaction, with the registry's changes, so a job is either
done with its changes or failed without any. While it runs, its progress is kept in the cache
(the job's row is part of the import's transaction and cannot be updated on the side).

A job is claimed before it runs and locked while it runs: a second delivery of its task
(a worker lost and the message delivered again) skips it while another run holds it, and
picks it up when that run's worker died.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
from dataclasses import asdict
from typing import IO, Any, BinaryIO, TypedDict

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.csvfiles import spreadsheet_safe
from eligibility.importer import import_companies, inspect_file
from eligibility.importer_types import ImportCounts, ImportFileError, Progress
from eligibility.models import RegistryImport

logger = logging.getLogger(__name__)

Status = RegistryImport.Status
# A job whose worker keeps dying (a file too big for the machine) is given up after this.
MAX_ATTEMPTS = 3
PROGRESS_TIMEOUT = 24 * 60 * 60
PROBLEMS_HEADER = ("line", "problem")


class LiveProgress(TypedDict):
    phase: str
    rows: int
    percent: int


def size_limit_message() -> str:
    return _("The file is larger than %(max)s. Split it into smaller files.") % {
        "max": filesizeformat(settings.REGISTRY_IMPORT_MAX_BYTES)
    }


def failure_message() -> str:
    return _(
        "The import stopped because of an unexpected error; the registry was left as it was. "
        "Upload the file again; if it happens again, contact support."
    )


def _binary(upload: Any) -> BinaryIO:
    """The plain binary file under Django's File wrappers (the import reads it as a stream)."""
    stream = upload
    while not isinstance(stream, io.IOBase) and hasattr(stream, "file"):
        stream = stream.file
    stream.seek(0)
    return stream  # type: ignore[no-any-return]


def check_upload(upload: Any) -> None:
    """Refuse at once a file over the size limit, unreadable, or with a wrong header."""
    if upload.size > settings.REGISTRY_IMPORT_MAX_BYTES:
        raise ImportFileError(size_limit_message())
    inspect_file(_binary(upload))


def start_registry_import(*, user: User, upload: Any) -> RegistryImport:
    """Check an uploaded file, store it and queue its import (raise ImportFileError)."""
    check_upload(upload)
    with transaction.atomic():
        job = RegistryImport(filename=(upload.name or "")[-255:], size=upload.size, created_by=user)
        job.file.save("registry.csv", upload, save=False)
        job.save()
        run_registry_import_task.delay_on_commit(job.pk)
    return job


def delete_jobs(jobs: QuerySet[RegistryImport]) -> int:
    """Delete jobs with their stored files."""
    deleted = 0
    for job in jobs:
        for stored in (job.file, job.problems):
            if stored:
                stored.delete(save=False)
        job.delete()
        deleted += 1
    return deleted


# --- Progress ------------------------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"registry-import:{job_id}:progress"


def live_progress(job: RegistryImport) -> LiveProgress | None:
    """How far a running job has got (None when it has not started or is over)."""
    if not job.is_active:
        return None
    progress: LiveProgress | None = cache.get(_progress_key(job.pk))
    return progress


def _report_progress(job_id: int, progress: Progress) -> None:
    cache.set(
        _progress_key(job_id),
        LiveProgress(
            phase=progress.phase, rows=progress.rows, percent=int(progress.fraction * 100)
        ),
        PROGRESS_TIMEOUT,
    )


# --- The worker ------------------------------------------------------------------------------


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_registry_import_task(job_id: int) -> str:
    return run_registry_import(job_id)


def run_registry_import(job_id: int) -> str:
    """Claim the job and import its file; returns what happened (for the logs)."""
    if not _claim(job_id):
        return "skipped"
    try:
        with transaction.atomic():
            job = (
                RegistryImport.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=Status.RUNNING)
                .first()
            )
            if job is None:
                return "skipped"  # another run holds it, or it is over
            _import(job)
    except ImportFileError as problem:
        _fail(job_id, str(problem))
        return "failed"
    except Exception:
        logger.exception("Registry import %s failed.", job_id)
        _fail(job_id, failure_message())
        return "failed"
    finally:
        cache.delete(_progress_key(job_id))
    return "done"


def _claim(job_id: int) -> bool:
    with transaction.atomic():
        job = (
            RegistryImport.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status__in=(Status.QUEUED, Status.RUNNING))
            .first()
        )
        if job is None:
            return False
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = Status.FAILED, timezone.now()
            job.error_message = failure_message()
            job.save(update_fields=["status", "finished_at", "error_message"])
            return False
        job.status, job.attempts = Status.RUNNING, job.attempts + 1
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
    return True


def _import(job: RegistryImport) -> None:
    """Run the import service on the job's file; save the result with the registry's changes."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as problems:
        writer = csv.writer(problems, lineterminator="\r\n")
        writer.writerow(PROBLEMS_HEADER)
        problem_count = 0

        def on_problem(line: int, message: str) -> None:
            nonlocal problem_count
            problem_count += 1
            writer.writerow((str(line), spreadsheet_safe(message)))

        with job.file.open("rb") as stored:
            counts = import_companies(
                stream=_binary(stored),
                on_problem=on_problem,
                on_progress=lambda progress: _report_progress(job.pk, progress),
            )
        if problem_count:
            _store_problems(job, problems)
        job.problem_count = problem_count
        _finish(job, counts)


def _store_problems(job: RegistryImport, problems: IO[str]) -> None:
    problems.seek(0)
    with tempfile.TemporaryFile() as encoded:
        while piece := problems.read(1024 * 1024):
            encoded.write(piece.encode("utf-8"))
        encoded.seek(0)
        job.problems.save("invalid-lines.csv", File(encoded), save=False)


def _finish(job: RegistryImport, counts: ImportCounts) -> None:
    job.status, job.finished_at = Status.DONE, timezone.now()
    job.rows = counts.rows
    job.counts = {
        name: value
        for name, value in asdict(counts).items()
        if isinstance(value, int) and name != "rows"
    }
    job.error_message = ""
    job.save()


def _fail(job_id: int, message: str) -> None:
    RegistryImport.objects.filter(pk=job_id).exclude(status=Status.DONE).update(
        status=Status.FAILED, error_message=message, finished_at=timezone.now()
    )
