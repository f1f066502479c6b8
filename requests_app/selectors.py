"""Reads of requests: partner-scoped lists and pages (a partner sees its own requests and
nothing else), the open launches that protect companies, the AE to assign, dashboard panels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Partner, User
from accounts.roles import AE_GROUP
from eligibility.decision import OpenFollowup, OpenLaunch
from eligibility.sql import checklog
from requests_app.models import (
    FOLLOWUP_KINDS,
    OPEN_FOLLOWUP_STATUSES,
    OPEN_LAUNCH_STATUSES,
    REFERENCE_RE,
    PartnerRequest,
    RequestEvent,
    RequestKind,
    RequestMessage,
    RequestStatus,
)

EXPIRY_WINDOW_DAYS = 14


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A line of a request's timeline: a status change or a message."""

    created_at: datetime
    event: RequestEvent | None = None
    message: RequestMessage | None = None


def timeline(request: PartnerRequest) -> list[TimelineEntry]:
    """The request's status changes and messages, oldest first (from the prefetched rows)."""
    entries = [TimelineEntry(event.created_at, event=event) for event in request.events.all()]
    entries += [
        TimelineEntry(message.created_at, message=message) for message in request.messages.all()
    ]
    return sorted(entries, key=lambda entry: entry.created_at)


def partner_requests(
    *, partner: Partner, status: str = "", kind: str = ""
) -> QuerySet[PartnerRequest]:
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
            Prefetch("messages", queryset=RequestMessage.objects.select_related("author")),
        )
        .first()
    )
    if request is None:
        raise Http404
    return request


def open_followup(*, partner: Partner, kind: str, company_id: int) -> PartnerRequest | None:
    """The partner's open upsell or takeover request of ``kind`` for the company, if any."""
    return (
        PartnerRequest.objects.filter(
            partner=partner, kind=kind, company_id=company_id, status__in=OPEN_FOLLOWUP_STATUSES
        )
        .order_by("-created_at")
        .first()
    )


def open_launches_by_key(keys: Collection[str]) -> dict[str, OpenLaunch]:
    """The open launch request protecting each of these keys, in one query (registered with
    eligibility as the reader of protections: see RequestsAppConfig.ready)."""
    if not keys:
        return {}
    # Every check reads this: SQL by hand (see eligibility.sql.checklog for the figures).
    rows = checklog.select_rows(
        PartnerRequest,
        ("protection_key", "id", "reference", "partner", "protected_until"),
        equal={"kind": RequestKind.LAUNCH.value},
        one_of={
            "status": [status.value for status in OPEN_LAUNCH_STATUSES],
            "protection_key": keys,
        },
    )
    return {
        key: OpenLaunch(pk, reference or "", partner_id, _aware(until))
        for key, pk, reference, partner_id, until in rows
    }


def _aware(value: datetime | str | None) -> datetime | None:
    """A timestamp read by hand-written SQL, as the ORM would give it (SQLite gives text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def open_followups_by_company(
    partner_id: int, company_ids: Collection[int]
) -> dict[int, list[OpenFollowup]]:
    """The partner's own open upsells and takeovers for these companies, in one query
    (registered with eligibility: see RequestsAppConfig.ready)."""
    if not company_ids:
        return {}
    rows = checklog.select_rows(
        PartnerRequest,
        ("company", "kind", "reference"),
        equal={"partner": partner_id},
        one_of={
            "kind": [kind.value for kind in FOLLOWUP_KINDS],
            "status": [status.value for status in OPEN_FOLLOWUP_STATUSES],
            "company": company_ids,
        },
        order_by="id",
    )
    found: dict[int, list[OpenFollowup]] = defaultdict(list)
    for company_id, kind, reference in rows:
        found[company_id].append(OpenFollowup(kind, reference or ""))
    return dict(found)


def open_launch_holding(key: str) -> PartnerRequest | None:
    """The open launch request that protects ``key``, if any."""
    return PartnerRequest.objects.filter(
        kind=RequestKind.LAUNCH, status__in=OPEN_LAUNCH_STATUSES, protection_key=key
    ).first()


def choose_ae(*, partner: Partner) -> User | None:
    """The partner's designated AE if active, else the active AE with fewest open launches."""
    designated = partner.designated_ae
    if designated is not None and designated.is_active and designated.is_staff:
        return designated
    open_launches = Q(
        assigned_requests__kind=RequestKind.LAUNCH,
        assigned_requests__status__in=OPEN_LAUNCH_STATUSES,
    )
    return (
        User.objects.filter(is_active=True, is_staff=True, groups__name=AE_GROUP)
        .annotate(open_count=Count("assigned_requests", filter=open_launches))
        .order_by("open_count", "pk")
        .first()
    )


# --- The partner's dashboard panels ------------------------------------------------------------


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
    counts: dict[str, int] = dict(rows)
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
