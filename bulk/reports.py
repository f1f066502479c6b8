"""A job's stored files: the upload read back in slices, the finished report and its e-mails."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import BinaryField, Expression
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length, Substr
from django.urls import reverse
from django.utils import timezone

from bulk.csv import report_header
from bulk.models import BulkCheckJob, BulkReportChunk
from bulk.selectors import report_filename
from core.emails import Attachment, queue_email
from core.urls import absolute_url
from requests_app.launch import notify_dealdesk_of_bulk_launches

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# The stored file is read in slices of this size, so a worker never holds all of it.
INPUT_SLICE_BYTES = 1024 * 1024
# A report up to this size is attached to its e-mail (about 11 MB once encoded for mail).
REPORT_ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
# The finished report on PostgreSQL: the header, then every chunk's lines in file order.
REPORT_SQL = (
    "%s || COALESCE((SELECT string_agg(data, ''::bytea ORDER BY first_line) "
    "FROM bulk_bulkreportchunk WHERE job_id = %s), ''::bytea)"
)


class StoredInput(io.RawIOBase):
    """The job's stored file, fetched from the database one large slice at a time."""

    def __init__(self, job_id: int, size: int, slice_bytes: int = INPUT_SLICE_BYTES) -> None:
        self.job_id = job_id
        self.size = size
        self.slice_bytes = slice_bytes
        self.fetched = 0  # bytes fetched from the database so far
        self.piece = b""
        self.offset = 0  # read position inside `piece`

    def readable(self) -> bool:
        return True

    def _fetch(self) -> None:
        length = min(self.slice_bytes, self.size - self.fetched)
        piece = (
            BulkCheckJob.objects.filter(pk=self.job_id)
            .annotate(
                piece=Substr("input_data", self.fetched + 1, length, output_field=BinaryField())
            )
            .values_list("piece", flat=True)
            .get()
        )
        self.piece, self.offset = bytes(piece or b""), 0
        self.fetched += len(self.piece)

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self.offset >= len(self.piece):
            if self.fetched >= self.size:
                return 0
            self._fetch()
            if not self.piece:
                return 0
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self.piece) - self.offset)
        view[:count] = self.piece[self.offset : self.offset + count]
        self.offset += count
        return count


def _report_expression(job: BulkCheckJob, header: list[str]) -> Expression | bytes:
    """The report (header + every chunk in line order) as the value to store.

    On PostgreSQL the database joins the chunks itself, so the worker does not hold the
    report twice (and its hex-escaped copy) just to send it back.
    """
    first_line = report_header(header, job.delimiter or ",")
    if connection.vendor == "postgresql":
        # Constant SQL; the header and the job id are bound parameters.
        return RawSQL(REPORT_SQL, (first_line, job.pk), output_field=BinaryField())  # noqa: S611
    chunks = (
        BulkReportChunk.objects.filter(job_id=job.pk)
        .order_by("first_line")
        .values_list("data", flat=True)
    )
    return b"".join([first_line, *(bytes(data) for data in chunks.iterator(chunk_size=10))])


def store_and_send_report(job: BulkCheckJob, *, header: list[str], token: int) -> bool:
    """Mark the job done with its report and e-mail it; False when the claim was lost.

    `job` carries the final counts. Mail servers refuse big messages: past the limit the
    e-mail only links to the report, and the worker never reads it back.
    """
    now = timezone.now()
    with transaction.atomic():
        if not BulkCheckJob.objects.filter(
            pk=job.pk, status=BulkCheckJob.Status.RUNNING, attempts=token
        ).update(
            status=BulkCheckJob.Status.DONE,
            finished_at=now,
            heartbeat_at=now,
            report_data=_report_expression(job, header),
            total_rows=job.total_rows,
            error_message="",
        ):
            return False
        job.finished_at = now
        stored = BulkCheckJob.objects.filter(pk=job.pk)
        size = stored.annotate(size=Length("report_data")).values_list("size", flat=True)
        attached = size.get() <= REPORT_ATTACHMENT_MAX_BYTES
        report = (
            bytes(stored.values_list("report_data", flat=True).get() or b"") if attached else b""
        )
        BulkReportChunk.objects.filter(job_id=job.pk).delete()
        _email_report(job, report if attached else None)
        if job.launched_count:
            notify_dealdesk_of_bulk_launches(job=job, count=job.launched_count)
    return True


def _email_report(job: BulkCheckJob, report: bytes | None) -> None:
    """The report e-mail: the CSV attached, or only its link when `report` is None."""
    assert job.created_by is not None
    queue_email(
        "bulk_report",
        [job.created_by.email],
        {
            "user": job.created_by,
            "job": job,
            "attached": report is not None,
            "jobs_url": absolute_url(reverse("bulk:jobs")),
            "report_url": absolute_url(reverse("bulk:report", args=[job.pk])),
        },
        attachments=[Attachment(report_filename(job), report, "text/csv")]
        if report is not None
        else [],
        language=job.created_by.preferred_language,
        time_zone=job.created_by.preferred_time_zone,
    )


def email_failure(job_id: int) -> None:
    """Tell the job's user that it failed (its page says why)."""
    job = (
        BulkCheckJob.objects.defer("input_data", "report_data")
        .select_related("created_by")
        .get(pk=job_id)
    )
    if job.created_by is None:
        return
    queue_email(
        "bulk_failed",
        [job.created_by.email],
        {
            "user": job.created_by,
            "job": job,
            "jobs_url": absolute_url(reverse("bulk:jobs")),
        },
        language=job.created_by.preferred_language,
        time_zone=job.created_by.preferred_time_zone,
    )
