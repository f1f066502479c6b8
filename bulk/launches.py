"""“Check and launch”: a launch request for each `available` row of a job, one per company.

The row was decided and logged by the job already, so the launch uses that decision as it is
(no second check, no second log line), and it is made for the job's partner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from bulk.csv import Columns
from bulk.models import BulkCheckJob
from eligibility.decision import Decision, Reason
from eligibility.models import EligibilityResult
from eligibility.taxid import protection_key
from requests_app.launch import create_launch, launch_details_errors
from requests_app.models import PartnerRequest
from requests_app.shared import RequestRefused

DUPLICATE_IN_FILE = "duplicate_in_file"
LAUNCH_COLUMNS = (
    "contact_name",
    "contact_email",
    "contact_phone",
    "employee_count",
    "business_model",
)

Outcome = tuple[Decision, str, str]  # (decision to report, reason, request reference)


class BulkLauncher:
    """Launches the rows of one job; remembers which line first launched each company."""

    def __init__(self, job: BulkCheckJob, columns: Columns) -> None:
        self.job = job
        self.partner = job.partner
        self.cell = {name: columns.getter(name) for name in LAUNCH_COLUMNS}
        # Companies this job launched (protection key -> line), to spot repeats in the file;
        # read back on a resumed run, so a repeat is one whichever chunk launched it.
        launched = (
            PartnerRequest.objects.filter(bulk_job=job, bulk_row__isnull=False)
            .order_by("-bulk_row")  # the first line wins
            .values_list("protection_key", "bulk_row")
        )
        self.launched_lines: dict[str, int] = {key: row for key, row in launched if row}

    def outcome(self, *, line: int, cells: list[str], name: str, decision: Decision) -> Outcome:
        """Launch the row when it is `available`; an earlier line of the file may hold it."""
        if not (decision.is_available or decision.reason == Reason.OWN_OPEN_REQUEST):
            return decision, reported_reason(decision), ""
        # Later chunks see a company this file launched as the partner's own open request.
        first = self.launched_lines.get(protection_key(decision.country, decision.tax_id))
        if first is not None and first != line:
            return _repeat(decision, first)
        if not decision.is_available:
            return decision, reported_reason(decision), ""
        return self._launch(line, cells, name, decision)

    def _launch(self, line: int, cells: list[str], name: str, decision: Decision) -> Outcome:
        details = {column: self.cell[column](cells) for column in LAUNCH_COLUMNS}
        details["business_model"] = self._business_model(details["business_model"])
        errors = launch_details_errors(partner=self.partner, **details)
        if errors:
            problems = "; ".join(f"{field}: {message}" for field, message in errors.items())
            return decision, _("Not launched: %(problems)s") % {"problems": problems}, ""
        user = self.job.created_by
        assert user is not None  # the worker does not run a job whose user is gone
        try:
            # A savepoint: a refused insert must not spoil the chunk's transaction.
            with transaction.atomic():
                launch = create_launch(
                    user=user,
                    country=decision.country,
                    tax_id=decision.tax_id,
                    company_name=name,
                    bulk_job=self.job,
                    bulk_row=line,
                    pending_approval=True,
                    notify=False,
                    decision=decision,
                    partner=self.job.partner,
                    **details,
                )
        except RequestRefused as refused:
            return decision, _("Not launched: %(reason)s") % {"reason": refused.message}, ""
        self.launched_lines.setdefault(protection_key(decision.country, decision.tax_id), line)
        reason = _("Launch request %(reference)s created; it waits for Dealdesk approval.") % {
            "reference": launch.reference
        }
        return decision, reason, launch.reference or ""

    def _business_model(self, value: str) -> str:
        """The cell in lower case; empty means the partner's only model when it has one."""
        value = value.strip().lower()
        if not value and len(self.partner.business_models) == 1:
            return str(self.partner.business_models[0])
        return value


def reported_reason(decision: Decision) -> str:
    """The reason column of the report: the decision's message (which names the partner's own
    open request)."""
    return decision.message


def row_note(decision: Decision, reason: str, messages: Mapping[str, str]) -> str:
    """What the check log keeps of a row's reported reason for the job page: nothing when it
    is the decision's own standard message (the page words it in the reader's language)."""
    return "" if reason == messages.get(decision.reason) else reason


def _repeat(decision: Decision, first: int) -> Outcome:
    """An earlier line of this file launched the same company: this one is not launched."""
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
    return repeat, message, ""
