"""Problem reports sent from "Report a problem", worked by support in the admin."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def screenshot_path(instance: "ProblemReport", filename: str) -> str:
    """A random name under support/YYYY/MM/: the uploaded name is never used (nor trusted)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return timezone.now().strftime(f"support/%Y/%m/{uuid.uuid4().hex}.{extension}")


class ProblemReport(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed-in user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="problem_reports",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="problem_reports",
    )
    email = models.EmailField(_("reporter e-mail"), max_length=254)
    description = models.TextField(_("what they were trying to do"))
    page = models.CharField(_("page"), max_length=500, blank=True)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True, db_index=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    screenshot = models.FileField(
        _("screenshot"), upload_to=screenshot_path, blank=True, max_length=200
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("problem report")
        verbose_name_plural = _("problem reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="report_status_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"SR-{self.pk:06d}" if self.pk else "SR-?"
