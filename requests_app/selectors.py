"""Partner-scoped reads of requests: a partner sees its own requests and nothing else."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import Partner, User
from eligibility.models import Company
from requests_app.models import (
    OPEN_FOLLOWUP_STATUSES,
    REFERENCE_RE,
    PartnerRequest,
    RequestEvent,
    RequestKind,
    RequestStatus,
)


def partner_requests(*, partner: Partner, status: str = "", kind: str = "") -> QuerySet:
    """The partner's requests, newest first; unknown filter values are ignored."""
    queryset = PartnerRequest.objects.filter(partner=partner).select_related("company")
    if status in RequestStatus.values:
        queryset = queryset.filter(status=status)
    if kind in RequestKind.values:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-created_at", "-pk")


def get_partner_request(*, user: User, reference: str) -> PartnerRequest:
    """The request with ``reference`` if it belongs to the user's partner, else 404."""
    reference = (reference or "").strip().upper()
    if user.partner_id is None or not REFERENCE_RE.match(reference):
        raise Http404
    request = (
        PartnerRequest.objects.filter(partner_id=user.partner_id, reference=reference)
        .select_related("company", "assigned_ae", "created_by", "partner")
        .prefetch_related(
            "products",
            Prefetch("events", queryset=RequestEvent.objects.select_related("actor")),
        )
        .first()
    )
    if request is None:
        raise Http404
    return request


def open_followup(*, partner: Partner, kind: str, company: Company) -> PartnerRequest | None:
    """The partner's open upsell or takeover request of ``kind`` for ``company``, if any."""
    return (
        PartnerRequest.objects.filter(
            partner=partner, kind=kind, company=company, status__in=OPEN_FOLLOWUP_STATUSES
        )
        .order_by("-created_at")
        .first()
    )
