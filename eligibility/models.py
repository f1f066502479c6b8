"""The company registry (companies, products, subscriptions), the check log, and the admin's
registry import jobs."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessModel
from eligibility.taxid import company_root, format_tax_id


class EligibilityResult(models.TextChoices):
    AVAILABLE = "available", _("Available")
    CLIENT = "client", _("Already a client")
    UNAVAILABLE = "unavailable", _("Unavailable")
    INVALID = "invalid", _("Invalid Tax ID")


class Company(models.Model):
    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CLIENT = "client", _("Client")
        BLOCKED = "blocked", _("Blocked")

    country = models.CharField(_("country"), max_length=2)
    tax_id = models.CharField(_("Tax ID (compact)"), max_length=32)
    # The key that groups a company with its branches: the CNPJ root in Brazil, else the Tax ID.
    root = models.CharField(_("root"), max_length=32, editable=False)
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PROSPECT)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["country", "tax_id"]
        constraints = [
            models.UniqueConstraint(fields=["country", "tax_id"], name="company_unique_tax_id"),
        ]
        indexes = [models.Index(fields=["country", "root"], name="company_root_idx")]

    def __str__(self) -> str:
        tax_id = format_tax_id(self.country, self.tax_id)
        return f"{self.legal_name or tax_id} ({self.country} {tax_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.root = company_root(self.country, self.tax_id)
        super().save(*args, **kwargs)


class Product(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    # No index of its own: the unique (company, product) index starts with it, and every index
    # less is less work for each subscription a registry import writes.
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    # Empty: the client pays Wellhub directly.
    paid_by_partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("paid by partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="paid_subscriptions",
    )
    business_model = models.CharField(
        _("business model"), max_length=16, choices=BusinessModel, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["company", "product"], name="subscription_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.company} — {self.product}"

    @property
    def paid_directly(self) -> bool:
        return self.paid_by_partner_id is None


class EligibilityCheck(models.Model):
    """One line of the check log: who asked what, and what they were told."""

    class Source(models.TextChoices):
        SINGLE = "single", _("Single check")
        BULK = "bulk", _("Bulk check")
        REQUEST = "request", _("Request submission")

    # No index of their own: the two composite indexes below start with these columns.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        db_index=False,
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.SET_NULL,
        null=True,
        db_index=False,
    )
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.SINGLE)
    country = models.CharField(_("country"), max_length=8, blank=True)
    raw_input = models.CharField(_("input"), max_length=128, blank=True)
    company_name = models.CharField(_("company name"), max_length=255, blank=True)
    tax_id = models.CharField(_("Tax ID (compact)"), max_length=32, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=EligibilityResult)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    # A bulk row's line in its file and, when the report says more than the reason's own
    # message (a launch, why a row was not launched, an invalid Tax ID), what it says: the job
    # page lists the rows from here. Indexed with the job (no index of its own on bulk_job).
    bulk_job = models.ForeignKey(
        "bulk.BulkCheckJob",
        verbose_name=_("bulk job"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checks",
        db_index=False,
    )
    bulk_line = models.PositiveIntegerField(_("bulk file line"), null=True, blank=True)
    bulk_note = models.CharField(_("bulk report reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("checked at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("eligibility check")
        verbose_name_plural = _("eligibility checks")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="check_partner_recent_idx"),
            # A user's own latest checks, shown beside the check form.
            models.Index(fields=["user", "source", "-created_at"], name="check_user_recent_idx"),
            models.Index(fields=["bulk_job", "bulk_line"], name="check_bulk_line_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.tax_id or self.raw_input}: {self.result}"


def registry_import_path(job: RegistryImport, filename: str) -> str:
    """Uploaded registry files live under a name of our choosing, not the uploader's."""
    return f"registry-imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class RegistryImport(models.Model):
    """A registry file uploaded in the admin, imported by a worker (eligibility.import_jobs).

    The import itself is one transaction, so the job's counts and status are saved with the
    registry's changes; how far a running import has got lives in the cache meanwhile.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("file"), upload_to=registry_import_path, max_length=200)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    problems = models.FileField(
        _("invalid lines"), upload_to=registry_import_path, max_length=200, blank=True
    )
    problem_count = models.PositiveIntegerField(_("invalid or repeated lines"), default=0)
    error_message = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
