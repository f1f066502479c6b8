"""Bulk CSV check jobs: input, progress and report live in the database."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        "accounts.Partner", verbose_name=_("partner"), on_delete=models.CASCADE,
        related_name="bulk_jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, related_name="bulk_jobs",
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
