"""Who hears about a request and what they are told (e-mails sent after commit)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.urls import reverse

from accounts.models import Partner, User
from core.emails import queue_email
from core.urls import absolute_url
from eligibility.taxid import format_tax_id
from requests_app.models import PartnerRequest, RequestKind, RequestMessage, RequestStatus


def request_url(request: PartnerRequest) -> str:
    """The partner's page of the request."""
    return absolute_url(request.get_absolute_url())


def admin_url(request: PartnerRequest) -> str:
    """The staff page of the request."""
    return absolute_url(reverse("admin:requests_app_partnerrequest_change", args=[request.pk]))


def partner_recipients(request: PartnerRequest) -> list[str]:
    """The submitter; if they are gone, every active user of the partner (never nobody)."""
    return [user.email for user in _partner_users(request)]


def _partner_users(request: PartnerRequest) -> list[User]:
    submitter = request.created_by
    if submitter is not None and submitter.is_active:
        return [submitter]
    return list(
        User.objects.filter(partner_id=request.partner_id, is_active=True)
        .select_related("partner")
        .order_by("pk")
    )


# Partner e-mails go out in each reader's language and time zone: (language, zone) → e-mails.
Audiences = dict[tuple[str, str], tuple[str, ...]]


def partner_audiences(request: PartnerRequest) -> Audiences:
    """The request's partner recipients, grouped by the language and zone they read in."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for user in _partner_users(request):
        groups[(user.preferred_language, user.preferred_time_zone)].append(user.email)
    return {locale: tuple(emails) for locale, emails in groups.items()}


def _queue_partner_email(name: str, audiences: Audiences, context: dict[str, Any]) -> None:
    for (language, zone), emails in audiences.items():
        queue_email(name, list(emails), context, language=language, time_zone=zone)


def _item(request: PartnerRequest) -> dict:
    return {
        "request": request,
        "url": request_url(request),
        "admin_url": admin_url(request),
        "company_name": request.display_company_name,
        "tax_id": format_tax_id(request.company.country, request.company.tax_id),
        "products": list(request.products.all()) if request.kind != RequestKind.LAUNCH else [],
    }


def notify_launch_submitted(launch: PartnerRequest, *, confirm_to_partner: bool = True) -> None:
    """The AE (or the sales team when no AE is free) gets the opportunity; the partner a receipt."""
    notify_assigned([launch], ae=launch.assigned_ae)
    if confirm_to_partner:
        notify_partner_submitted(launch)


def notify_assigned(requests: list[PartnerRequest], *, ae: User | None) -> None:
    if not requests:
        return
    to = ae.email if ae is not None else settings.SALES_TEAM_EMAIL
    queue_email(
        "request_assigned",
        to,
        {"items": [_item(r) for r in requests], "ae": ae, "count": len(requests)},
    )


def notify_partner_submitted(request: PartnerRequest) -> None:
    _queue_partner_email("request_submitted", partner_audiences(request), _item(request))


def notify_team_of_followup(request: PartnerRequest) -> None:
    """Upsells go to the sales team, payment takeovers to the partnerships team."""
    to = (
        settings.PARTNERSHIPS_TEAM_EMAIL
        if request.kind == RequestKind.TAKEOVER
        else settings.SALES_TEAM_EMAIL
    )
    queue_email("request_team_notice", to, _item(request))


def answering_address(request: PartnerRequest, *, status: str = "") -> str:
    """Who answers for Wellhub: the assigned AE, else the team that handles the request in
    its ``status`` (by default its status now)."""
    if request.assigned_ae is not None and request.assigned_ae.is_active:
        return request.assigned_ae.email
    if (status or request.status) == RequestStatus.PENDING_APPROVAL:
        return settings.DEALDESK_EMAIL
    if request.kind == RequestKind.TAKEOVER:
        return settings.PARTNERSHIPS_TEAM_EMAIL
    return settings.SALES_TEAM_EMAIL


def notify_partner_message(message: RequestMessage) -> None:
    """The partner wrote on its request: the AE (or the answering team) reads it."""
    request = message.request
    queue_email(
        "request_message",
        answering_address(request),
        {**_item(request), "message": message, "partner_name": request.partner.name},
    )


def notify_wellhub_answer(message: RequestMessage) -> None:
    """Wellhub answered on a request: the partner reads it."""
    recipients = partner_recipients(message.request)
    if recipients:
        queue_email("request_answer", recipients, {**_item(message.request), "message": message})


def notify_withdrawn(request: PartnerRequest, *, by: User, was: str) -> None:
    """The partner withdrew its request (it was in status ``was``): whoever had it stops."""
    to = answering_address(request, status=was)
    queue_email("request_withdrawn", to, {**_item(request), "by": by})


def notify_status_changed(requests: Iterable[PartnerRequest], *, status: str, note: str) -> None:
    """One e-mail per recipient list and language, naming every request that reached ``status``."""
    groups: dict[tuple[tuple[str, str], tuple[str, ...]], list[PartnerRequest]] = defaultdict(list)
    for request in requests:
        for locale, recipients in partner_audiences(request).items():
            groups[(locale, recipients)].append(request)
    for ((language, zone), recipients), grouped in groups.items():
        queue_email(
            "request_status_changed",
            list(recipients),
            {
                "items": [_item(r) for r in grouped],
                "count": len(grouped),
                "status": status,
                "status_label": RequestStatus(status).label,
                "note": note,
            },
            language=language,
            time_zone=zone,
        )


def notify_expiry_warning(request: PartnerRequest) -> None:
    _queue_partner_email("request_expiry_warning", partner_audiences(request), _item(request))


class BulkJob(Protocol):
    """What the Dealdesk's e-mail names of a bulk job (the bulk app sits above this one)."""

    pk: Any
    partner: Partner


def notify_dealdesk(*, job: BulkJob, count: int) -> None:
    review = reverse("admin:requests_app_partnerrequest_changelist")
    queue_email(
        "request_bulk_pending",
        settings.DEALDESK_EMAIL,
        {
            "job": job,
            "partner_name": job.partner.name,
            "count": count,
            "review_url": absolute_url(
                f"{review}?bulk_job={job.pk}&status__exact={RequestStatus.PENDING_APPROVAL}"
            ),
        },
    )
