"""Protection expiry: the daily run that ends launch protections and warns before they end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app import notifications
from requests_app.models import OPEN_LAUNCH_STATUSES, PartnerRequest, RequestKind, RequestStatus
from requests_app.shared import InvalidTransition
from requests_app.status import change_status


@dataclass
class ExpiryReport:
    expired: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)


def expire_protections(now: datetime | None = None) -> ExpiryReport:
    """Expire open launches whose protection ended; warn once a few days before it ends."""
    now = now or timezone.now()
    report = ExpiryReport()
    open_launches = PartnerRequest.objects.filter(
        kind=RequestKind.LAUNCH, status__in=OPEN_LAUNCH_STATUSES
    ).select_related("company", "created_by")
    for request in open_launches.filter(protected_until__lte=now).order_by("pk"):
        try:
            change_status(
                request=request,
                to_status=RequestStatus.EXPIRED,
                actor=None,
                note=_("The %(days)d-day protection ended.") % {"days": settings.PROTECTION_DAYS},
            )
        except InvalidTransition:
            continue  # closed by staff meanwhile
        report.expired.append(request.reference or "")

    warn_until = now + timedelta(days=settings.PROTECTION_WARNING_DAYS)
    due_for_warning = open_launches.filter(
        protected_until__gt=now,
        protected_until__lte=warn_until,
        expiry_warning_sent_at__isnull=True,
    ).order_by("pk")
    for request in due_for_warning:
        with transaction.atomic():
            claimed = PartnerRequest.objects.filter(
                pk=request.pk, expiry_warning_sent_at__isnull=True
            ).update(expiry_warning_sent_at=now)
            if claimed:
                notifications.notify_expiry_warning(request)
        if claimed:
            report.warned.append(request.reference or "")
    return report
