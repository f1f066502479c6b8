"""Processing a bulk job on a worker: claim it, read the stored file in chunks, report.

A job is claimed with a conditional UPDATE and every chunk is one transaction that writes the
chunk's checks, launches, report lines and progress together, guarded by the claim. A worker
that dies loses at most the chunk it was writing; the next run resumes after the last
committed chunk, so no row is counted, logged or launched twice.

A claim is a lease: while the job runs, a thread of the worker renews its heartbeat every
third of BULK_LEASE_SECONDS (LeaseKeeper). A running job without a sign of life for a whole
lease has lost its worker, and the next delivery of its task takes it back; a delivery that
finds the job still held tries again once the lease would have run out.

A job acts for the partner that uploaded it (job.partner) from start to end: decisions, check
log lines and launches are that partner's, whichever partner its user belongs to by then.
"""

from __future__ import annotations

import gc
import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.rules import country_or_home, partner_paused_message
from bulk.claims import (
    LeaseKeeper,
    claim,
    fail,
    failure_message,
    held_by_a_live_worker,
    one_chunk_at_a_time,
)
from bulk.csv import Columns
from bulk.launches import BulkLauncher, reported_reason, row_note
from bulk.models import RESULT_ORDER, BulkCheckJob, BulkReportChunk
from bulk.reports import StoredInput, store_and_send_report
from core.csvfiles import Row, SafeCsvWriter, read_rows, text_stream
from eligibility.decision import Decision, invalid_decision, reason_messages
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.services import decide_many
from eligibility.sql.checklog import CheckEntry, log_checks
from eligibility.taxid import TaxIdResult, validate_tax_id

logger = logging.getLogger(__name__)

Mode = BulkCheckJob.Mode
Status = BulkCheckJob.Status

MALFORMED_ROW = "malformed_row"
# What the task is told when another live worker holds the job: try again later.
BUSY = "busy"


class _Superseded(Exception):
    """Another run took the job over (or finished it): stop without writing."""


class _JobCannotRun(Exception):
    """The job cannot be processed; the message is for the partner."""


@dataclass(slots=True)
class FileRow:
    """One row of the uploaded file, read into named values."""

    line: int  # as a spreadsheet numbers it
    cells: list[str]
    country: str  # upper case; the partner's home country when the cell is empty
    raw_tax_id: str
    name: str
    # The Tax ID's validation; already the decision when the row itself is malformed.
    outcome: TaxIdResult | Decision


# max_retries=None: a delivery that finds its job held tries again every lease until the job
# ends or its lease runs out (a hung run stops renewing it: see LeaseKeeper).
@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def process_bulk_job_task(self: Task, job_id: int) -> str:
    """Process (or resume) one bulk job; safe to run twice, the job is claimed first.

    A job another worker still holds is tried again when that worker's lease would have
    run out: when the task was delivered again because its worker died, the job is taken
    back within seconds instead of waiting for the stuck-job sweep.
    """
    outcome = process_bulk_job(job_id=job_id, keep_lease=not self.request.is_eager)
    if outcome == BUSY and not self.request.is_eager:
        raise self.retry(countdown=settings.BULK_LEASE_SECONDS + 1)
    return outcome


def process_bulk_job(*, job_id: int, keep_lease: bool = False) -> str:
    """Claim the job and process what is left of it; returns what happened (for logs).

    With `keep_lease`, a thread renews the claim's lease while the job runs (a worker's task
    does this; tests that call this function directly finish well within a lease).
    """
    job = claim(job_id)
    if job is None:
        return BUSY if held_by_a_live_worker(job_id) else "skipped"
    # The report's reasons and the job's messages are in the uploader's language.
    language = job.created_by.preferred_language if job.created_by else settings.LANGUAGE_CODE
    with translation.override(language):
        return _run(job, keep_lease=keep_lease)


def _run(job: BulkCheckJob, *, keep_lease: bool) -> str:
    job_id = job.pk
    run = _JobRun(job)
    lease = run.lease = LeaseKeeper(job.pk, token=run.token) if keep_lease else None
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
        fail(job, token=run.token, message=str(problem))
        return "failed"
    except Exception:
        logger.exception("Bulk job %s failed.", job_id)
        fail(job, token=run.token, message=failure_message())
        return "failed"
    finally:
        if lease is not None:
            lease.stop()
    return "done"


# --- Processing ---------------------------------------------------------------------------------


def _batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one chunk is processed (performance code).

    A chunk allocates tens of thousands of short-lived objects (cells, validations, decisions)
    that reference counting frees as soon as the chunk is done; left on, the collector keeps
    scanning every long-lived object of the process because of them. Whatever cycles a chunk
    leaves are collected once the collector is back.

    Measured with bench/bulk.py (20,000 rows against 200,000 companies, fresh process per run,
    five runs each, alternating): worker CPU 0.62 s best / 0.69 s median with the pause,
    0.73 s / 0.78 s without it, about 15% of the worker's own time.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _JobRun:
    """One worker's pass over a claimed job."""

    def __init__(self, job: BulkCheckJob) -> None:
        self.job = job
        self.token = job.attempts  # the claim: a later claim changes it, and our writes stop
        self.partner = job.partner
        self.delimiter = job.delimiter or ","
        self.processed = job.processed_rows
        self.launched = job.launched_count
        self.counts = {result: int((job.counts or {}).get(result, 0)) for result in RESULT_ORDER}
        self.header: list[str] = []
        self.lease: LeaseKeeper | None = None  # renews the claim, in a worker
        self.messages = reason_messages()  # what a row's note need not repeat

    def process(self) -> None:
        """Read the stored file and process the chunks not committed yet, one at a time."""
        if self.job.created_by is None:
            raise _JobCannotRun(_("The user who uploaded this file no longer exists."))
        if not self.partner.is_active:
            raise _JobCannotRun(partner_paused_message())
        stored = StoredInput(self.job.pk, getattr(self.job, "input_size", 0) or 0)
        encoding = self.job.encoding or "utf-8-sig"
        with text_stream(io.BufferedReader(stored), encoding, errors="replace") as text:
            self.header, rows = read_rows(text, self.delimiter)
            self.columns = Columns(self.header)
            self.launcher = (
                BulkLauncher(self.job, self.columns)
                if self.job.mode == Mode.CHECK_AND_LAUNCH
                else None
            )
            remaining = islice(rows, self.processed, None)  # committed chunks are not redone
            chunks = _batched(remaining, settings.BULK_CHUNK_SIZE)
            while True:
                # Performance code, measured (~15% of worker CPU): see _collector_paused.
                with _collector_paused():
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    self._process_chunk(self._read(chunk))

    def _read(self, chunk: list[Row]) -> list[FileRow]:
        """The chunk's rows as named values, each Tax ID validated once (no database)."""
        partner = self.partner
        get = self.columns.getter
        country_of, tax_id_of, name_of = get("country"), get("tax_id"), get("company_name")
        width = self.columns.width
        validations: dict[tuple[str, str], TaxIdResult] = {}
        rows = []
        for line, cells in chunk:
            country = country_or_home(partner, country_of(cells))
            raw = tax_id_of(cells)
            outcome: TaxIdResult | Decision | None = None
            if len(cells) > width:
                outcome = self._malformed(country, self.columns.extra_cells(cells))
            if outcome is None:
                outcome = validations.get((country, raw))
                if outcome is None:
                    outcome = validations[(country, raw)] = validate_tax_id(country, raw)
            rows.append(FileRow(line, cells, country, raw, name_of(cells), outcome))
        return rows

    @staticmethod
    def _malformed(country: str, extra: int) -> Decision | None:
        """The decision for a row with non-empty cells beyond the header (None when it has none)."""
        if not extra:
            return None
        message = _(
            "This row has %(extra)s more cell(s) than the header; a value probably "
            "contains an unquoted delimiter."
        ) % {"extra": extra}
        return Decision(
            country=country,
            tax_id="",
            result=EligibilityResult.INVALID,
            reason=MALFORMED_ROW,
            message=message,
        )

    def _decide(self, rows: list[FileRow]) -> list[Decision]:
        """One batched decision for every valid Tax ID of the chunk; a decision per row."""
        valid = (row.outcome for row in rows if isinstance(row.outcome, TaxIdResult))
        items = list(dict.fromkeys((v.country, v.compact) for v in valid if v.is_valid))
        decided = dict(zip(items, decide_many(partner=self.partner, items=items), strict=True))
        decisions = []
        for row in rows:
            outcome = row.outcome
            if isinstance(outcome, Decision):
                decisions.append(outcome)
            elif outcome.is_valid:
                decisions.append(decided[(outcome.country, outcome.compact)])
            else:
                decisions.append(invalid_decision(outcome))
        return decisions

    def _process_chunk(self, rows: list[FileRow]) -> None:
        """Decide the chunk, then write all it leaves behind in one transaction."""
        decisions = self._decide(rows)
        start, counts, launched = self.processed, dict(self.counts), self.launched
        writer = SafeCsvWriter(self.delimiter)
        entries = []
        with transaction.atomic():
            # One chunk of a job at a time, whichever run writes it; the job's row itself is
            # only written at the end, so the lease can be renewed while a long chunk runs.
            one_chunk_at_a_time(self.job.pk)
            if not self._ours(start).exists():
                raise _Superseded
            for row, decided in zip(rows, decisions, strict=True):
                decision, reason, reference = self._outcome(row, decided)
                launched += bool(reference)
                counts[decision.result] = counts.get(decision.result, 0) + 1
                note = row_note(decision, reason, self.messages)
                entries.append(
                    CheckEntry(row.country, row.raw_tax_id, row.name, decision, row.line, note)
                )
                writer.write([*self.columns.fit(row.cells), decision.result, reason, reference])
            self._save_chunk(rows, entries, writer.getvalue(), counts, launched)
        self.processed, self.counts, self.launched = start + len(rows), counts, launched
        if self.lease is not None:
            self.lease.progressed()

    def _outcome(self, row: FileRow, decision: Decision) -> tuple[Decision, str, str]:
        """(decision to report, reason, request reference) for one row."""
        if self.launcher is None:
            return decision, reported_reason(decision), ""
        return self.launcher.outcome(
            line=row.line, cells=row.cells, name=row.name, decision=decision
        )

    def _save_chunk(
        self,
        rows: list[FileRow],
        entries: list[CheckEntry],
        report_lines: bytes,
        counts: dict[str, int],
        launched: int,
    ) -> None:
        """The chunk's check log lines, report lines and the job's progress."""
        assert self.job.created_by is not None  # checked before the first chunk
        log_checks(
            user=self.job.created_by,
            partner=self.partner,
            source=EligibilityCheck.Source.BULK,
            entries=entries,
            bulk_job=self.job,
        )
        BulkReportChunk.objects.create(
            job_id=self.job.pk, first_line=rows[0].line, row_count=len(rows), data=report_lines
        )
        # Written only if the claim is still ours: else the whole chunk is rolled back.
        if not self._ours(self.processed).update(
            processed_rows=self.processed + len(rows),
            counts=counts,
            launched_count=launched,
            heartbeat_at=timezone.now(),
        ):
            raise _Superseded

    def _ours(self, processed: int) -> QuerySet[BulkCheckJob]:
        """The job, if this run still holds it and it has processed `processed` rows."""
        return BulkCheckJob.objects.filter(
            pk=self.job.pk, status=Status.RUNNING, attempts=self.token, processed_rows=processed
        )

    def finish(self) -> None:
        """Store the report, mark the job done and e-mail the report (if still ours)."""
        if self.processed != self.job.total_rows:
            logger.warning(
                "Bulk job %s: %s rows processed, %s counted at upload.",
                self.job.pk,
                self.processed,
                self.job.total_rows,
            )
        job = self.job
        job.status, job.total_rows, job.processed_rows = Status.DONE, self.processed, self.processed
        job.counts, job.launched_count = self.counts, self.launched
        if not store_and_send_report(job, header=self.header, token=self.token):
            raise _Superseded
