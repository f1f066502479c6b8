"""Partner requests (launch, upsell, payment takeover) and their status history.

One model serves the three kinds: they share the reference, the partner scoping, the status
history and the notifications, and differ only in which fields they fill. The rule "one open
launch per company" is a partial unique index on `protection_key`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessModel


class RequestKind(models.TextChoices):
    LAUNCH = "launch", _("Launch")
    UPSELL = "upsell", _("Upsell")
    TAKEOVER = "takeover", _("Payment takeover")


class RequestStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    EXPIRED = "expired", _("Expired")
    DECLINED = "declined", _("Declined")


# A launch in one of these statuses protects its company from other partners.
OPEN_LAUNCH_STATUSES = (
    RequestStatus.PENDING_APPROVAL,
    RequestStatus.APPROVED,
    RequestStatus.SUBMITTED,
    RequestStatus.IN_PROGRESS,
)
OPEN_STATUSES = OPEN_LAUNCH_STATUSES


class PartnerRequest(models.Model):
    reference = models.CharField(_("reference"), max_length=16, unique=True, null=True,
                                 editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus)
    partner = models.ForeignKey(
        "accounts.Partner", verbose_name=_("partner"), on_delete=models.PROTECT,
        related_name="requests",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, related_name="created_requests",
    )
    company = models.ForeignKey(
        "eligibility.Company", verbose_name=_("company"), on_delete=models.PROTECT,
        related_name="requests",
    )
    # country + company root: what a launch protects (a Brazilian company with its branches).
    protection_key = models.CharField(_("protection key"), max_length=40, editable=False)
    company_name = models.CharField(_("company name"), max_length=255, blank=True)
    business_model = models.CharField(_("business model"), max_length=16, choices=BusinessModel)
    products = models.ManyToManyField(
        "eligibility.Product", verbose_name=_("products"), blank=True, related_name="requests"
    )
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    assigned_ae = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned AE"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="assigned_requests",
        limit_choices_to={"is_staff": True},
    )
    due_date = models.DateField(_("answer due"), null=True, blank=True)
    protected_until = models.DateTimeField(_("protected until"), null=True, blank=True)
    expiry_warning_sent_at = models.DateTimeField(_("expiry warning sent"), null=True,
                                                  blank=True)
    bulk_job = models.ForeignKey(
        "eligibility.BulkCheckJob", verbose_name=_("bulk job"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="requests",
    )
    bulk_row = models.PositiveIntegerField(_("bulk file line"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("partner request")
        verbose_name_plural = _("partner requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["protection_key"],
                condition=Q(kind="launch", status__in=[s.value for s in OPEN_LAUNCH_STATUSES]),
                name="one_open_launch_per_company",
            ),
            models.UniqueConstraint(
                fields=["bulk_job", "bulk_row"],
                condition=Q(bulk_job__isnull=False),
                name="one_launch_per_bulk_row",
            ),
            models.CheckConstraint(
                condition=Q(employee_count__isnull=True) | Q(employee_count__gt=0),
                name="employee_count_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="request_partner_idx"),
            models.Index(fields=["kind", "status"], name="request_kind_status_idx"),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"


class RequestEvent(models.Model):
    """Append-only status history."""

    request = models.ForeignKey(
        PartnerRequest, verbose_name=_("request"), on_delete=models.CASCADE,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True,
        blank=True,
    )
    from_status = models.CharField(_("from"), max_length=20, choices=RequestStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=RequestStatus)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"
