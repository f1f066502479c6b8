"""Reading bulk jobs for pages: a partner's jobs, one job, one report — never the stored files
unless asked for."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Partner
from bulk.models import BulkCheckJob

JOBS_SHOWN = 50


def partner_jobs(partner: Partner) -> QuerySet[BulkCheckJob]:
    """The partner's latest jobs (every user's), without the stored files."""
    return (
        BulkCheckJob.objects.filter(partner=partner)
        .defer("input_data", "report_data")
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:JOBS_SHOWN]
    )


def recent_jobs(partner: Partner) -> QuerySet[BulkCheckJob]:
    """The partner's jobs, newest first, for a panel (slice it): no files, no error text."""
    # The uploaded file and the report can be megabytes each: never load them here.
    return (
        BulkCheckJob.objects.filter(partner=partner)
        .defer("input_data", "report_data", "error_message")
        .order_by("-created_at", "-pk")
    )


def get_partner_job(*, partner: Partner, pk: int) -> BulkCheckJob:
    """One of the partner's jobs (without the stored files), or 404."""
    jobs = BulkCheckJob.objects.defer("input_data", "report_data").select_related("created_by")
    return get_object_or_404(jobs, partner=partner, pk=pk)


def get_partner_report(*, partner: Partner, pk: int) -> BulkCheckJob:
    """A finished job of the partner with its report, or 404."""
    jobs = BulkCheckJob.objects.only("pk", "partner_id", "filename", "report_data")
    return get_object_or_404(
        jobs, partner=partner, pk=pk, status=BulkCheckJob.Status.DONE, report_data__isnull=False
    )


def report_filename(job: BulkCheckJob) -> str:
    return f"bulk-check-{job.pk}-report.csv"
