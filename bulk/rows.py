"""The rows of a bulk job as its page lists them: read from the check log, a page at a time.

Each row was logged by the worker with its line and, when the report said more than the
decision's own message, the report's reason; the launch a row made is found by its line. A
page costs the same few queries whatever the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from bulk.launches import DUPLICATE_IN_FILE
from bulk.models import RESULT_ORDER, BulkCheckJob
from eligibility.decision import reason_messages
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.taxid import format_tax_id
from requests_app.models import PartnerRequest

ROWS_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class JobRow:
    line: int | None
    raw_input: str
    tax_id: str  # formatted for its country; the input when it is not a valid Tax ID
    company_name: str
    result: str
    result_label: str
    reason: str
    reference: str  # the launch request the row made, if any


@dataclass(frozen=True, slots=True)
class RowsPage:
    rows: list[JobRow]
    number: int
    pages: int
    total: int
    result: str  # the filter ("" for every row)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _page_number(value: object, pages: int) -> int:
    text = str(value or "")
    number = int(text) if text.isdigit() and len(text) < 9 else 1
    return min(max(number, 1), pages)


def job_rows(*, job: BulkCheckJob, result: str = "", page: object = 1) -> RowsPage:
    """One page of the job's rows in file order, only those with ``result`` when it is one."""
    result = result if result in RESULT_ORDER else ""
    counts = job.counts or {}
    total = int(counts.get(result, 0)) if result else job.processed_rows
    pages = max(1, -(-total // ROWS_PER_PAGE))
    number = _page_number(page, pages)
    checks = EligibilityCheck.objects.filter(bulk_job=job)
    if result:
        checks = checks.filter(result=result)
    start = (number - 1) * ROWS_PER_PAGE
    logged = list(
        checks.order_by("bulk_line", "pk").values_list(
            "bulk_line",
            "raw_input",
            "country",
            "tax_id",
            "company_name",
            "result",
            "reason",
            "bulk_note",
        )[start : start + ROWS_PER_PAGE]
    )
    lines = [row[0] for row in logged if row[0] is not None]
    references: dict[int, str] = {}
    if lines:
        launched = PartnerRequest.objects.filter(bulk_job=job, bulk_row__in=lines)
        references = {
            line: reference or ""
            for line, reference in launched.values_list("bulk_row", "reference")
            if line is not None
        }
    labels = {value: str(label) for value, label in EligibilityResult.choices}
    messages = reason_messages()
    rows = [
        JobRow(
            line=line,
            raw_input=raw,
            tax_id=format_tax_id(country, tax_id) or raw,
            company_name=name,
            result=outcome,
            result_label=labels.get(outcome, outcome),
            reason=note or messages.get(reason, reason),
            reference=references.get(line, "") if line is not None else "",
        )
        for line, raw, country, tax_id, name, outcome, reason, note in logged
    ]
    return RowsPage(rows=rows, number=number, pages=pages, total=total, result=result)


@dataclass(frozen=True, slots=True)
class LaunchSummary:
    launched: int
    not_launched: int  # available rows without a launch: their reason says why
    repeated: int  # rows naming a company an earlier line of the file launched


def launch_summary(job: BulkCheckJob) -> LaunchSummary | None:
    """What a "check and launch" job launched and what it skipped (None for a check only)."""
    if job.mode != BulkCheckJob.Mode.CHECK_AND_LAUNCH:
        return None
    available = int((job.counts or {}).get(EligibilityResult.AVAILABLE, 0))
    repeated = EligibilityCheck.objects.filter(bulk_job=job).aggregate(
        n=Count("pk", filter=Q(reason=DUPLICATE_IN_FILE))
    )["n"]
    return LaunchSummary(
        launched=job.launched_count,
        not_launched=max(0, available - job.launched_count),
        repeated=int(repeated or 0),
    )


def result_filters(job: BulkCheckJob) -> list[tuple[str, str, int]]:
    """(result, label, count) for the filter links, every row first."""
    every = [("", _("All rows"), job.processed_rows)]
    return every + job.result_counts
