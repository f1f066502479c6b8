"""Bulk CSV checks: start a job from an upload, process it in chunks on a worker, report.

A job is claimed with a conditional UPDATE and every chunk is one transaction that writes the
chunk's checks, launches, report lines and progress together, guarded by the claim. A worker
that dies loses at most the chunk it was writing; the next run resumes after the last
committed chunk, so no row is counted, logged or launched twice.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import BinaryField, DateTimeField, F, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Length, Substr
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from bulk.csv import (
    TEMPLATE_COLUMNS,
    Columns,
    ReportWriter,
    UploadRejected,
    inspect_upload,
    read_rows,
    report_header,
    text_stream,
)
from bulk.models import RESULT_ORDER, BulkCheckJob, BulkReportChunk
from core.emails import Attachment, queue_email
from eligibility.checklog import log_checks
from eligibility.decision import Decision, Reason, invalid_decision
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.services import decide_many
from eligibility.taxid import TaxIdResult, protection_key, validate_tax_id
from requests_app.launch import (
    create_launch,
    launch_details_errors,
    notify_dealdesk_of_bulk_launches,
)
from requests_app.shared import RequestRefused

logger = logging.getLogger(__name__)

Mode = BulkCheckJob.Mode
Status = BulkCheckJob.Status

JOBS_SHOWN = 50
# A job whose worker keeps dying is given up after this many starts.
MAX_ATTEMPTS = 5
# A report up to this size is attached to its e-mail (about 11 MB once encoded for mail).
REPORT_ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
# The stored file is read in slices of this size, so a worker never holds all of it.
INPUT_SLICE_BYTES = 1024 * 1024
DUPLICATE_IN_FILE = "duplicate_in_file"
# The finished report on PostgreSQL: the header, then every chunk's lines in file order.
REPORT_SQL = (
    "%s || COALESCE((SELECT string_agg(data, ''::bytea ORDER BY first_line) "
    "FROM bulk_bulkreportchunk WHERE job_id = %s), ''::bytea)"
)
MALFORMED_ROW = "malformed_row"


class _Superseded(Exception):
    """Another run took the job over (or finished it): stop without writing."""


class _JobCannotRun(Exception):
    """The job cannot be processed; the message is for the partner."""


def mode_refused_message() -> str:
    return _("“Check and launch” is available to premium partners only. Choose “Check only”.")


def size_limit_message() -> str:
    return _("The file is larger than %(max)s. Split it into smaller files.") % {
        "max": filesizeformat(settings.BULK_MAX_BYTES)
    }


def failure_message() -> str:
    return _(
        "We could not finish checking this file because of an unexpected error. "
        "Please upload it again; if it happens again, contact support."
    )


def allowed_modes(partner: Partner) -> list[str]:
    """What a partner may ask of a bulk file: launching in bulk is for premium partners."""
    modes = [Mode.CHECK.value]
    if partner.is_premium:
        modes.append(Mode.CHECK_AND_LAUNCH.value)
    return modes


# --- Selectors ---------------------------------------------------------------------------------


def partner_jobs(partner: Partner) -> QuerySet[BulkCheckJob]:
    """The partner's latest jobs (every user's), without the stored files."""
    return (
        BulkCheckJob.objects.filter(partner=partner)
        .defer("input_data", "report_data")
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:JOBS_SHOWN]
    )


def get_partner_job(*, partner: Partner, pk: int) -> BulkCheckJob:
    """One of the partner's jobs (without the stored files), or 404."""
    jobs = BulkCheckJob.objects.defer("input_data", "report_data").select_related("created_by")
    return get_object_or_404(jobs, partner=partner, pk=pk)


def get_partner_report(*, partner: Partner, pk: int) -> BulkCheckJob:
    """A finished job of the partner with its report, or 404."""
    jobs = BulkCheckJob.objects.only("pk", "partner_id", "filename", "report_data")
    return get_object_or_404(
        jobs, partner=partner, pk=pk, status=Status.DONE, report_data__isnull=False
    )


def report_filename(job: BulkCheckJob) -> str:
    return f"bulk-check-{job.pk}-report.csv"


# --- Starting a job ---------------------------------------------------------------------------


def start_bulk_check(*, user: User, filename: str, data: bytes, mode: str) -> BulkCheckJob:
    """Check the upload at once (raise UploadRejected), store it and queue its processing."""
    from bulk.tasks import process_bulk_job_task

    partner = user.active_partner
    if partner is None:
        raise UploadRejected(_("Only users of an active partner organisation can check files."))
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
        process_bulk_job_task.delay_on_commit(job.pk)
    return job


# --- Processing a job -------------------------------------------------------------------------


def process_bulk_job(*, job_id: int) -> str:
    """Claim the job and process what is left of it; returns what happened (for logs)."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    run = _JobRun(job)
    try:
        run.process()
        run.finish()
    except _Superseded:
        logger.warning("Bulk job %s was taken over by another run; this run stops.", job_id)
        return "superseded"
    except (OperationalError, InterfaceError):
        # The database went away: leave the job running; once its heartbeat is stale it is
        # re-queued and resumes after the last committed chunk.
        logger.exception("Bulk job %s lost its database connection.", job_id)
        raise
    except _JobCannotRun as problem:
        _fail(job, token=run.token, message=str(problem))
        return "failed"
    except Exception:
        logger.exception("Bulk job %s failed.", job_id)
        _fail(job, token=run.token, message=failure_message())
        return "failed"
    return "done"


def _claimable(now) -> Q:
    stale = now - timedelta(seconds=settings.BULK_STUCK_AFTER_SECONDS)
    return Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale)


def _claim(job_id: int) -> BulkCheckJob | None:
    """Take the job (queued, or running with a stale heartbeat); None when it is not ours."""
    now = timezone.now()
    jobs = BulkCheckJob.objects.filter(pk=job_id)
    gave_up = jobs.filter(_claimable(now), attempts__gte=MAX_ATTEMPTS).update(
        status=Status.FAILED, finished_at=now, error_message=failure_message()
    )
    if gave_up:
        logger.error("Bulk job %s was given up after %s attempts.", job_id, MAX_ATTEMPTS)
        _email_failure(job_id)
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


class _StoredInput(io.RawIOBase):
    """The job's stored file, fetched from the database one large slice at a time."""

    def __init__(self, job_id: int, size: int, slice_bytes: int = INPUT_SLICE_BYTES):
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

    def readinto(self, buffer) -> int:
        if self.offset >= len(self.piece):
            if self.fetched >= self.size:
                return 0
            self._fetch()
            if not self.piece:
                return 0
        count = min(len(buffer), len(self.piece) - self.offset)
        buffer[:count] = self.piece[self.offset : self.offset + count]
        self.offset += count
        return count


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one chunk is processed.

    A chunk allocates tens of thousands of short-lived objects (cells, validations, decisions)
    that reference counting frees as soon as the chunk is done; left on, the collector would
    keep scanning every long-lived object of the process because of them, for about a tenth
    of the job's time. Whatever cycles a chunk leaves are collected once the collector is back.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _decision(country: str, result: str, reason: str, message: str, tax_id: str = "") -> Decision:
    return Decision(country=country, tax_id=tax_id, result=result, reason=reason, message=message)


class _JobRun:
    """One worker's pass over a claimed job."""

    def __init__(self, job: BulkCheckJob):
        self.job = job
        self.token = job.attempts  # the claim: a later claim changes it, and our writes stop
        self.user = job.created_by
        self.partner = job.partner
        self.launching = job.mode == Mode.CHECK_AND_LAUNCH
        self.processed = job.processed_rows
        self.launched = job.launched_count
        self.counts = {result: int((job.counts or {}).get(result, 0)) for result in RESULT_ORDER}
        self.header: list[str] = []
        # Companies this job launched (protection key -> line), to spot repeats in the file.
        self.launched_lines: dict[str, int] = {}
        if self.launching:
            from requests_app.models import PartnerRequest

            self.launched_lines = dict(
                PartnerRequest.objects.filter(bulk_job=job)
                .order_by("-bulk_row")  # the first line wins
                .values_list("protection_key", "bulk_row")
            )

    # Reading ---------------------------------------------------------------------------------

    def process(self) -> None:
        if self.user is None:
            raise _JobCannotRun(_("The user who uploaded this file no longer exists."))
        raw = _StoredInput(self.job.pk, self.job.input_size or 0)
        with text_stream(
            io.BufferedReader(raw),
            self.job.encoding or "utf-8-sig",
            errors="replace",
        ) as text:
            self.header, rows = read_rows(text, self.job.delimiter or ",")
            columns = Columns(self.header)
            self.columns = columns
            self.cell = {name: columns.getter(name) for name in TEMPLATE_COLUMNS}
            remaining = islice(rows, self.processed, None)  # committed chunks are not redone
            chunks = _batched(remaining, settings.BULK_CHUNK_SIZE)
            while True:
                with _collector_paused():
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    self._process_chunk(*self._read_and_validate(chunk))

    # One chunk -------------------------------------------------------------------------------

    def _read_and_validate(self, chunk: list[tuple[int, list[str]]]):
        """The chunk's cells and the validation of each Tax ID (no database)."""
        home = self.partner.home_country
        country_of, tax_id_of, name_of = (
            self.cell["country"],
            self.cell["tax_id"],
            self.cell["company_name"],
        )
        width = self.columns.width
        validations: dict[tuple[str, str], TaxIdResult] = {}
        rows = []  # [line, cells, country, raw, name, decision or validation]
        for line, cells in chunk:
            country = country_of(cells).upper() or home
            raw = tax_id_of(cells)
            name = name_of(cells)
            extra = len(cells) > width and self.columns.extra_cells(cells)
            if extra:
                outcome = _decision(
                    country,
                    EligibilityResult.INVALID,
                    MALFORMED_ROW,
                    _(
                        "This row has %(extra)s more cell(s) than the header; a value probably "
                        "contains an unquoted delimiter."
                    )
                    % {"extra": extra},
                )
            else:
                outcome = validations.get((country, raw))
                if outcome is None:
                    outcome = validations[(country, raw)] = validate_tax_id(country, raw)
            rows.append([line, cells, country, raw, name, outcome])
        return chunk, rows, validations

    def _process_chunk(self, chunk: list[tuple[int, list[str]]], rows: list, validations) -> None:
        # One batched decision for every valid Tax ID of the chunk.
        items = list(
            dict.fromkeys((v.country, v.compact) for v in validations.values() if v.is_valid)
        )
        decided = dict(zip(items, decide_many(partner=self.partner, items=items), strict=True))
        for row in rows:
            outcome = row[5]
            if isinstance(outcome, TaxIdResult):
                row[5] = (
                    decided[(outcome.country, outcome.compact)]
                    if outcome.is_valid
                    else invalid_decision(outcome)
                )

        start = self.processed
        counts = dict(self.counts)
        launched = self.launched
        launched_lines = dict(self.launched_lines)
        writer = ReportWriter(self.job.delimiter or ",")
        entries = []
        with transaction.atomic():
            # First statement: takes the job's row lock, and proves the claim is still ours.
            if not BulkCheckJob.objects.filter(
                pk=self.job.pk, status=Status.RUNNING, attempts=self.token, processed_rows=start
            ).update(heartbeat_at=timezone.now()):
                raise _Superseded
            for line, cells, country, raw, name, decision in rows:
                reference = ""
                reason = decision.message
                if decision.reason == Reason.OWN_OPEN_REQUEST and decision.own_request:
                    reason = f"{reason} ({decision.own_request.reference})"
                if self.launching and (
                    decision.is_available or decision.reason == Reason.OWN_OPEN_REQUEST
                ):
                    # A company this file already launched is a repeat, whichever chunk the
                    # launch was in (later chunks see it as the partner's own open request).
                    repeat = self._repeat(decision, line, launched_lines)
                    if repeat is not None:
                        decision, reason = repeat
                    elif decision.is_available:
                        decision, reason, reference = self._launch(
                            line, cells, decision, name, launched_lines
                        )
                        if reference:
                            launched += 1
                counts[decision.result] = counts.get(decision.result, 0) + 1
                entries.append((country, raw, name, decision))
                writer.write([*self.columns.fit(cells), decision.result, reason, reference])
            log_checks(
                user=self.user,
                source=EligibilityCheck.Source.BULK,
                entries=entries,
                bulk_job=self.job,
            )
            BulkReportChunk.objects.create(
                job_id=self.job.pk,
                first_line=chunk[0][0],
                row_count=len(chunk),
                data=writer.getvalue(),
            )
            BulkCheckJob.objects.filter(pk=self.job.pk).update(
                processed_rows=start + len(chunk), counts=counts, launched_count=launched
            )
        self.processed = start + len(chunk)
        self.counts, self.launched, self.launched_lines = counts, launched, launched_lines

    @staticmethod
    def _repeat(decision: Decision, line: int, launched_lines) -> tuple[Decision, str] | None:
        """(decision, reason) when an earlier line of this file launched the same company."""
        first = launched_lines.get(protection_key(decision.country, decision.tax_id))
        if first is None or first == line:
            return None
        message = _(
            "Not launched: the same company (or a branch of it) is on line %(line)s of this "
            "file, which was launched."
        ) % {"line": first}
        repeat = dataclasses.replace(
            decision,
            result=EligibilityResult.UNAVAILABLE,
            reason=DUPLICATE_IN_FILE,
            message=message,
        )
        return repeat, message

    def _launch(self, line, cells, decision: Decision, name: str, launched_lines):
        """Launch an `available` row: (decision to report, reason, request reference)."""
        details = {
            "contact_name": self.cell["contact_name"](cells),
            "contact_email": self.cell["contact_email"](cells),
            "contact_phone": self.cell["contact_phone"](cells),
            "employee_count": self.cell["employee_count"](cells),
            "business_model": self._business_model(self.cell["business_model"](cells)),
        }
        errors = launch_details_errors(partner=self.partner, **details)
        if errors:
            problems = "; ".join(f"{field}: {message}" for field, message in errors.items())
            return decision, _("Not launched: %(problems)s") % {"problems": problems}, ""
        try:
            # A savepoint: a refused insert must not spoil the chunk's transaction.
            with transaction.atomic():
                launch = create_launch(
                    user=self.user,
                    country=decision.country,
                    tax_id=decision.tax_id,
                    company_name=name,
                    bulk_job=self.job,
                    bulk_row=line,
                    pending_approval=True,
                    notify=False,
                    decision=decision,
                    **details,
                )
        except RequestRefused as refused:
            return decision, _("Not launched: %(reason)s") % {"reason": refused.message}, ""
        launched_lines.setdefault(protection_key(decision.country, decision.tax_id), line)
        reason = _("Launch request %(reference)s created; it waits for Dealdesk approval.") % {
            "reference": launch.reference
        }
        return decision, reason, launch.reference

    def _business_model(self, value: str) -> str:
        """The cell in lower case; empty means the partner's only model when it has one."""
        value = value.strip().lower()
        if not value and len(self.partner.business_models) == 1:
            return str(self.partner.business_models[0])
        return value

    # Finishing -------------------------------------------------------------------------------

    def _report_expression(self):
        """The report (header + every chunk in line order) as the value to store.

        On PostgreSQL the database joins the chunks itself, so the worker does not hold the
        report twice (and its hex-escaped copy) just to send it back.
        """
        header = report_header(self.header, self.job.delimiter or ",")
        if connection.vendor == "postgresql":
            # Constant SQL; the header and the job id are bound parameters.
            return RawSQL(REPORT_SQL, (header, self.job.pk), output_field=BinaryField())  # noqa: S611
        chunks = (
            BulkReportChunk.objects.filter(job_id=self.job.pk)
            .order_by("first_line")
            .values_list("data", flat=True)
        )
        return b"".join([header, *(bytes(data) for data in chunks.iterator(chunk_size=10))])

    def finish(self) -> None:
        if self.processed != self.job.total_rows:
            logger.warning(
                "Bulk job %s: %s rows processed, %s counted at upload.",
                self.job.pk,
                self.processed,
                self.job.total_rows,
            )
        now = timezone.now()
        with transaction.atomic():
            if not BulkCheckJob.objects.filter(
                pk=self.job.pk, status=Status.RUNNING, attempts=self.token
            ).update(
                status=Status.DONE,
                finished_at=now,
                heartbeat_at=now,
                report_data=self._report_expression(),
                total_rows=self.processed,
                error_message="",
            ):
                raise _Superseded
            stored = BulkCheckJob.objects.filter(pk=self.job.pk)
            # Mail servers refuse big messages: past the limit the e-mail only links to the
            # report, and the worker never reads it back.
            size = stored.annotate(size=Length("report_data")).values_list("size", flat=True)
            attached = size.get() <= REPORT_ATTACHMENT_MAX_BYTES
            report = bytes(stored.values_list("report_data", flat=True).get()) if attached else b""
            BulkReportChunk.objects.filter(job_id=self.job.pk).delete()
            job = self.job
            job.status, job.finished_at, job.total_rows = Status.DONE, now, self.processed
            job.processed_rows, job.counts, job.launched_count = (
                self.processed,
                self.counts,
                self.launched,
            )
            queue_email(
                "bulk_report",
                [self.user.email],
                {
                    "user": self.user,
                    "job": job,
                    "attached": attached,
                    "jobs_url": settings.SITE_URL + reverse("bulk:jobs"),
                    "report_url": settings.SITE_URL + reverse("bulk:report", args=[job.pk]),
                },
                attachments=[Attachment(report_filename(job), report, "text/csv")]
                if attached
                else [],
            )
            if self.launched:
                notify_dealdesk_of_bulk_launches(job=job, count=self.launched)


def _fail(job: BulkCheckJob, *, token: int, message: str) -> None:
    """Mark the job failed (if this run still holds it) and tell the user."""
    updated = BulkCheckJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=token).update(
        status=Status.FAILED, finished_at=timezone.now(), error_message=message
    )
    if updated:
        _email_failure(job.pk)


def _email_failure(job_id: int) -> None:
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
            "jobs_url": settings.SITE_URL + reverse("bulk:jobs"),
        },
    )


# --- Keeping jobs moving ----------------------------------------------------------------------


def requeue_stuck_jobs() -> int:
    """Send again the jobs whose worker died (stale heartbeat) or whose message was lost.

    A stale running job goes back to `queued` first, so a worker that was only slow notices
    at its next chunk that the job is no longer its own. Returns how many were sent again.
    """
    from bulk.tasks import process_bulk_job_task

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
                process_bulk_job_task.delay_on_commit(pk)
                sent += 1
    if sent:
        logger.warning("Re-queued %s stuck bulk job(s).", sent)
    return sent


def retry_failed_jobs(jobs: QuerySet[BulkCheckJob]) -> int:
    """Staff: queue failed jobs again; they resume after their last committed chunk."""
    from bulk.tasks import process_bulk_job_task

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
                process_bulk_job_task.delay_on_commit(pk)
                sent += 1
    return sent
