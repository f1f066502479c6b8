"""Partner requests (launch, upsell, payment takeover) and their status history.

One model serves the three kinds: they share the reference, the partner scoping, the status
history and the notifications, and differ only in which fields they fill. The rule "one open
launch per company" is a partial unique index on `protection_key`.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
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
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A launch in one of these statuses protects its company from other partners.
OPEN_LAUNCH_STATUSES = (
    RequestStatus.PENDING_APPROVAL,
    RequestStatus.APPROVED,
    RequestStatus.SUBMITTED,
    RequestStatus.IN_PROGRESS,
)
# An upsell or takeover in one of these statuses is still being worked on by Wellhub.
OPEN_FOLLOWUP_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.IN_PROGRESS)
FOLLOWUP_KINDS = (RequestKind.UPSELL, RequestKind.TAKEOVER)

# The partner may withdraw its request until Wellhub starts working on it.
WITHDRAWABLE_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.PENDING_APPROVAL)

# The life cycle of each kind: status -> the statuses it may move to.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    RequestKind.LAUNCH: {
        RequestStatus.PENDING_APPROVAL: frozenset(
            {
                RequestStatus.APPROVED,
                RequestStatus.REJECTED,
                RequestStatus.EXPIRED,
                RequestStatus.WITHDRAWN,
            }
        ),
        RequestStatus.APPROVED: frozenset({RequestStatus.SUBMITTED, RequestStatus.EXPIRED}),
        RequestStatus.SUBMITTED: frozenset(
            {RequestStatus.IN_PROGRESS, RequestStatus.EXPIRED, RequestStatus.WITHDRAWN}
        ),
        RequestStatus.IN_PROGRESS: frozenset(
            {RequestStatus.WON, RequestStatus.LOST, RequestStatus.EXPIRED}
        ),
    },
    RequestKind.UPSELL: {
        RequestStatus.SUBMITTED: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.WITHDRAWN}),
        RequestStatus.IN_PROGRESS: frozenset({RequestStatus.APPROVED, RequestStatus.DECLINED}),
    },
}
TRANSITIONS[RequestKind.TAKEOVER] = TRANSITIONS[RequestKind.UPSELL]

# Never chosen by staff: reached by the system (protection ending, an approved bulk launch
# going to its AE) or by the partner (withdrawing).
SYSTEM_ONLY_STATUSES = frozenset(
    {RequestStatus.EXPIRED, RequestStatus.SUBMITTED, RequestStatus.WITHDRAWN}
)

REFERENCE_PREFIX = "RH-"
REFERENCE_RE = re.compile(r"^RH-(\d{6,12})$")

EMPLOYEE_COUNT_MAX = 10_000_000
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 20
# Digits with the usual separators; a "+" only in front (international prefix).
_PHONE_RE = re.compile(r"^\+?[0-9 ()\-]+$")
_WHOLE_NUMBER_RE = re.compile(r"^[+-]?[0-9]+$")

# Thousands separators people type, by language: 1,200 in English, 1.200 in Portuguese, and
# either in Spanish (Spain and Argentina group with dots, Mexico with commas). Only whole
# groups of three digits count, so 1,5 or 1.5 is never read as fifteen.
_THOUSANDS_SEPARATORS = {"en": ",", "pt-br": ".", "es": ".,"}


def _without_grouping(text: str) -> str:
    """`text` without the active language's thousands separators, when it is grouped right."""
    language = (get_language() or "en").lower()
    for separator in _THOUSANDS_SEPARATORS.get(language, ","):
        if re.fullmatch(rf"[+-]?[0-9]{{1,3}}(?:{re.escape(separator)}[0-9]{{3}})+", text):
            return text.replace(separator, "")
    return text


def format_reference(pk: int) -> str:
    return f"{REFERENCE_PREFIX}{pk:06d}"


def validate_contact_phone(value: str) -> None:
    """Digits, spaces, "-", "(", ")" and a leading "+"; between 7 and 20 digits in all."""
    digits = sum(char.isdigit() for char in value)
    if not _PHONE_RE.match(value) or not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        raise ValidationError(
            _(
                "Enter a phone number of %(min)d to %(max)d digits; only digits, spaces, "
                "“-”, “(”, “)” and a leading “+” are allowed."
            ),
            code="invalid_phone",
            params={"min": PHONE_MIN_DIGITS, "max": PHONE_MAX_DIGITS},
        )


def parse_employee_count(value: object) -> int:
    """A positive whole number of at most EMPLOYEE_COUNT_MAX: digits, grouped the local way."""
    if isinstance(value, int) and not isinstance(value, bool):
        count = value
    else:
        text = _without_grouping(value.strip()) if isinstance(value, str) else ""
        if not _WHOLE_NUMBER_RE.match(text):
            raise ValidationError(
                _("Enter the number of employees as a whole number, like 250."),
                code="not_a_whole_number",
            )
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) <= len(str(EMPLOYEE_COUNT_MAX)):
            count = int(text)
        else:  # far out of range: never converted (int() of huge strings is slow)
            count = -1 if text.startswith("-") else EMPLOYEE_COUNT_MAX + 1
    if count < 1:
        raise ValidationError(_("The number of employees must be at least 1."), code="too_small")
    if count > EMPLOYEE_COUNT_MAX:
        raise ValidationError(
            _("The number of employees can be at most %(max)s."),
            code="too_large",
            params={"max": number_format(EMPLOYEE_COUNT_MAX, force_grouping=True)},
        )
    return count


class PartnerRequest(models.Model):
    reference = models.CharField(
        _("reference"), max_length=16, unique=True, null=True, editable=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus)
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="created_requests",
    )
    company = models.ForeignKey(
        "eligibility.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
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
    contact_phone = models.CharField(
        _("contact phone"), max_length=32, blank=True, validators=[validate_contact_phone]
    )
    employee_count = models.PositiveIntegerField(
        _("employees"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(EMPLOYEE_COUNT_MAX)],
    )
    assigned_ae = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned AE"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
        limit_choices_to={"is_staff": True},
    )
    due_date = models.DateField(_("answer due"), null=True, blank=True)
    protected_until = models.DateTimeField(_("protected until"), null=True, blank=True)
    expiry_warning_sent_at = models.DateTimeField(_("expiry warning sent"), null=True, blank=True)
    bulk_job = models.ForeignKey(
        "bulk.BulkCheckJob",
        verbose_name=_("bulk job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    bulk_row = models.PositiveIntegerField(_("bulk file line"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("partner request")
        verbose_name_plural = _("partner requests")
        ordering = ["-created_at", "-pk"]
        # The Dealdesk's decision on premium partners' bulk launches (not a plain change).
        permissions = [("decide_bulk_launch", _("Can approve or reject bulk launches"))]
        constraints = [
            models.UniqueConstraint(
                fields=["protection_key"],
                condition=Q(kind="launch", status__in=[s.value for s in OPEN_LAUNCH_STATUSES]),
                name="one_open_launch_per_company",
            ),
            # A double-clicked "send" must not open the same upsell or takeover twice.
            models.UniqueConstraint(
                fields=["partner", "kind", "company"],
                condition=Q(
                    kind__in=[k.value for k in FOLLOWUP_KINDS],
                    status__in=[s.value for s in OPEN_FOLLOWUP_STATUSES],
                ),
                name="one_open_followup_per_company",
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
            models.Index(
                fields=["protected_until"],
                condition=Q(kind="launch"),
                name="request_launch_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("requests_app:detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        open_statuses = (
            OPEN_LAUNCH_STATUSES if self.kind == RequestKind.LAUNCH else OPEN_FOLLOWUP_STATUSES
        )
        return self.status in open_statuses

    @property
    def display_company_name(self) -> str:
        return self.company.legal_name or self.company_name

    def next_statuses(self) -> frozenset[str]:
        return TRANSITIONS.get(self.kind, {}).get(self.status, frozenset())


class RequestEvent(models.Model):
    """Append-only status history."""

    request = models.ForeignKey(
        PartnerRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
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


MESSAGE_MAX_LENGTH = 2000


class RequestMessage(models.Model):
    """A message on a request: from the partner to its AE, or Wellhub's answer. Plain text."""

    request = models.ForeignKey(
        PartnerRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    # Kept apart from the author, whose account may later go: who spoke for whom.
    from_wellhub = models.BooleanField(_("from Wellhub"), default=False)
    body = models.TextField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["request", "created_at"], name="request_message_idx")]

    def __str__(self) -> str:
        return f"{self.request} · {self.created_at:%Y-%m-%d %H:%M}"
