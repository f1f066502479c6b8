"""Launching the available rows of a finished check-only job, from its page (premium partners).

The rows that were `available` and carry contact data are copied, as they were written, into a
new "check and launch" job: the worker decides each of them again at that moment and sends
the launches to the Dealdesk like those of any bulk launch (bulk.launches).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from django.db.models.functions import Length
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.rules import acting_partner
from bulk.csv import Columns, UploadRejected
from bulk.launches import LAUNCH_COLUMNS
from bulk.models import BulkCheckJob
from bulk.reports import StoredInput
from bulk.selectors import get_partner_job
from bulk.services import allowed_modes, mode_refused_message, start_bulk_check
from core.csvfiles import read_rows, text_stream
from eligibility.models import EligibilityCheck, EligibilityResult

LAUNCH_AVAILABLE = "launch_available"  # the upload form's `mode` for this


def may_launch_available(job: BulkCheckJob, partner: Partner) -> bool:
    """A finished check-only job with available rows, of a partner that may launch in bulk."""
    return (
        job.mode == BulkCheckJob.Mode.CHECK
        and job.status == BulkCheckJob.Status.DONE
        and bool((job.counts or {}).get(EligibilityResult.AVAILABLE))
        and BulkCheckJob.Mode.CHECK_AND_LAUNCH in allowed_modes(partner)
    )


def _has_contact_data(columns: Columns) -> Callable[[list[str]], bool]:
    getters = [columns.getter(name) for name in LAUNCH_COLUMNS if name != "business_model"]
    return lambda cells: all(get(cells) for get in getters)


def _available_rows_file(job: BulkCheckJob) -> tuple[bytes, int]:
    """The header and the job's available rows that carry contact data, as a CSV file."""
    lines = set(
        EligibilityCheck.objects.filter(
            bulk_job=job, result=EligibilityResult.AVAILABLE, bulk_line__isnull=False
        ).values_list("bulk_line", flat=True)
    )
    size = BulkCheckJob.objects.filter(pk=job.pk).values_list(Length("input_data"), flat=True)
    stored = StoredInput(job.pk, size.get() or 0)
    delimiter = job.delimiter or ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    kept = 0
    with text_stream(io.BufferedReader(stored), job.encoding or "utf-8-sig", "replace") as text:
        header, rows = read_rows(text, delimiter)
        complete = _has_contact_data(Columns(header))
        writer.writerow(header)
        for line, cells in rows:
            if line in lines and complete(cells):
                writer.writerow(cells)
                kept += 1
    return out.getvalue().encode("utf-8"), kept


def launch_available_rows(*, user: User, job_id: object) -> BulkCheckJob:
    """Queue a "check and launch" job of the job's available rows with contact data.

    Raises UploadRejected with the reason when the partner may not, the job is not a finished
    check-only job, or no available row carries contact data; another partner's job is 404.
    """
    partner = acting_partner(user)
    text = str(job_id or "")
    job = get_partner_job(partner=partner, pk=int(text) if text.isdigit() and len(text) < 10 else 0)
    if BulkCheckJob.Mode.CHECK_AND_LAUNCH not in allowed_modes(partner):
        raise UploadRejected(mode_refused_message())
    if not may_launch_available(job, partner):
        raise UploadRejected(
            _("Only the available rows of a finished “Check only” job can be launched.")
        )
    data, kept = _available_rows_file(job)
    if not kept:
        raise UploadRejected(
            _(
                "None of the available rows has complete contact data (contact name, e-mail, "
                "phone and employee count), so there is nothing to launch."
            )
        )
    name = _("%(name)s (available rows)") % {"name": job.filename or f"#{job.pk}"}
    return start_bulk_check(
        user=user, filename=name, data=data, mode=BulkCheckJob.Mode.CHECK_AND_LAUNCH
    )
