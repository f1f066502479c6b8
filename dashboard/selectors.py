"""What the partner's home page shows: a handful of bounded queries, scoped to one partner.

Each panel is one query (counts are grouped in the database, lists are sliced), so the page
costs the same number of queries for a partner with two requests or two thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import Partner, User
from bulk.selectors import recent_jobs
from eligibility.models import EligibilityCheck
from requests_app.models import (
    OPEN_FOLLOWUP_STATUSES,
    OPEN_LAUNCH_STATUSES,
    PartnerRequest,
    RequestKind,
    RequestStatus,
)

EXPIRY_WINDOW_DAYS = 14
RECENT_BULK_JOBS = 5
RECENT_CHECKS = 10
LIST_LIMIT = 20


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def request_counts(partner: Partner) -> list[StatusCount]:
    """The partner's requests per status, in the order statuses are declared; zeros left out."""
    rows = (
        PartnerRequest.objects.filter(partner=partner)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    counts = dict(rows)
    return [
        StatusCount(status=status.value, label=str(status.label), count=counts[status.value])
        for status in RequestStatus
        if counts.get(status.value)
    ]


def expiring_protections(
    partner: Partner, *, days: int = EXPIRY_WINDOW_DAYS
) -> QuerySet[PartnerRequest]:
    """Open launch requests whose protection ends within `days` (not already ended)."""
    now = timezone.now()
    return (
        PartnerRequest.objects.filter(
            partner=partner,
            kind=RequestKind.LAUNCH,
            status__in=OPEN_LAUNCH_STATUSES,
            protected_until__gte=now,
            protected_until__lte=now + timedelta(days=days),
        )
        .select_related("company")
        .only(
            "reference",
            "status",
            "company_name",
            "protected_until",
            "company__legal_name",
            "company__tax_id",
            "company__country",
        )
        .order_by("protected_until", "pk")
    )


def pending_takeovers(partner: Partner) -> QuerySet[PartnerRequest]:
    """Payment takeovers still waiting for an answer, the soonest answer date first."""
    return (
        PartnerRequest.objects.filter(
            partner=partner,
            kind=RequestKind.TAKEOVER,
            status__in=OPEN_FOLLOWUP_STATUSES,
        )
        .select_related("company")
        .only(
            "reference",
            "status",
            "company_name",
            "due_date",
            "company__legal_name",
            "company__tax_id",
            "company__country",
        )
        .order_by("due_date", "pk")
    )


def recent_checks(partner: Partner) -> QuerySet[EligibilityCheck]:
    # Bulk rows have their own panel; thousands of them would push single checks out of view.
    return (
        EligibilityCheck.objects.filter(partner=partner)
        .exclude(source=EligibilityCheck.Source.BULK)
        .only("country", "raw_input", "tax_id", "company_name", "result", "created_at")
        .order_by("-created_at", "-pk")
    )


def context_for(user: User) -> dict[str, Any]:
    """The dashboard of the partner the user acts for; none for staff or a paused partner."""
    partner = user.active_partner
    if partner is None:
        # A paused partner's users see why, and none of its data (as on every partner page).
        return {"partner": None, "paused_partner": user.partner}
    counts = request_counts(partner)
    context: dict[str, Any] = {
        "partner": partner,
        "request_counts": counts,
        "request_total": sum(item.count for item in counts),
        "expiry_window_days": EXPIRY_WINDOW_DAYS,
        "expiring": list(expiring_protections(partner)[:LIST_LIMIT]),
        "takeovers": list(pending_takeovers(partner)[:LIST_LIMIT]),
        "bulk_jobs": list(recent_jobs(partner)[:RECENT_BULK_JOBS]),
        "checks": list(recent_checks(partner)[:RECENT_CHECKS]),
    }
    context["is_new_partner"] = not (
        context["request_total"] or context["bulk_jobs"] or context["checks"]
    )
    return context
