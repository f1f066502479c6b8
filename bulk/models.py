"""Bulk CSV check jobs: input, progress and report live in the database."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eligibility.models import EligibilityResult

# The order in which results are counted and shown.
RESULT_ORDER = ("available", "client", "unavailable", "invalid")


class BulkCheckJob(models.Model):
    class Mode(models.TextChoices):
        CHECK = "check", _("Check only")
        CHECK_AND_LAUNCH = "check_and_launch", _("Check and launch")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="bulk_jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="bulk_jobs",
    )
    mode = models.CharField(_("mode"), max_length=20, choices=Mode, default=Mode.CHECK)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.QUEUED)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    input_data = models.BinaryField(_("input file"))
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    counts = models.JSONField(_("counts per result"), default=dict, blank=True)
    launched_count = models.PositiveIntegerField(_("launch requests created"), default=0)
    report_data = models.BinaryField(_("report"), null=True, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk check job")
        verbose_name_plural = _("bulk check jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["partner", "-created_at"], name="bulkjob_partner_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_active(self) -> bool:
        """Still waiting or working: the jobs page keeps polling it."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def result_counts(self) -> list[tuple[str, str, int]]:
        """(result, label, count) in display order, for the results present."""
        counts = self.counts or {}
        return [
            (result, str(EligibilityResult(result).label), int(counts[result]))
            for result in RESULT_ORDER
            if counts.get(result)
        ]


class BulkReportChunk(models.Model):
    """The report lines of one processed chunk of a job, written with that chunk's checks.

    One row per chunk (not per line) keeps the writes few; the unique key makes a replayed
    chunk impossible to store twice. The finished report joins them in line order.
    """

    job = models.ForeignKey(
        BulkCheckJob,
        verbose_name=_("bulk job"),
        on_delete=models.CASCADE,
        related_name="report_chunks",
    )
    first_line = models.PositiveIntegerField(_("first line"))
    row_count = models.PositiveIntegerField(_("rows"))
    data = models.BinaryField(_("report lines"))

    class Meta:
        verbose_name = _("bulk report chunk")
        verbose_name_plural = _("bulk report chunks")
        constraints = [
            models.UniqueConstraint(fields=["job", "first_line"], name="bulk_report_chunk_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.job_id} from line {self.first_line}"
