"""Status changes: the one way a request moves through its life cycle (DESIGN §5), the
Dealdesk's bulk approval and rejection, and handing a request to another AE."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from requests_app import notifications
from requests_app.models import (
    TRANSITIONS,
    WITHDRAWABLE_STATUSES,
    PartnerRequest,
    RequestEvent,
    RequestKind,
    RequestStatus,
)
from requests_app.selectors import choose_ae
from requests_app.shared import InvalidTransition


def _transition(
    request: PartnerRequest,
    *,
    to_status: str,
    actor: User | None,
    note: str,
    **fields: Any,
) -> None:
    """Move ``request`` to ``to_status`` with a conditional UPDATE and record it."""
    current = (
        PartnerRequest.objects.filter(pk=request.pk).values_list("status", flat=True).first() or ""
    )
    allowed = TRANSITIONS.get(request.kind, {}).get(current, frozenset())
    if to_status not in allowed:
        raise InvalidTransition(refusal_message(request, current=current, to_status=to_status))
    now = timezone.now()
    updated = PartnerRequest.objects.filter(pk=request.pk, status=current).update(
        status=to_status, updated_at=now, **fields
    )
    if not updated:
        raise InvalidTransition(
            _("%(reference)s was changed by someone else meanwhile; reload and try again.")
            % {"reference": request.reference}
        )
    request.status = to_status
    for name, value in fields.items():
        setattr(request, name, value)
    RequestEvent.objects.create(
        request=request, actor=actor, from_status=current, to_status=to_status, note=note
    )


def _label(status: str) -> str:
    return str(RequestStatus(status).label).lower() if status in RequestStatus.values else status


def _first_step(kind: str, current: str, target: str) -> str | None:
    """The first status on the shortest way from `current` to `target`, if there is one."""
    steps = TRANSITIONS.get(kind, {})
    first: dict[str, str] = {step: step for step in steps.get(current, frozenset())}
    queue = list(first)
    while queue:
        status = queue.pop(0)
        if status == target:
            return first[status]
        for following in sorted(steps.get(status, frozenset())):
            if following not in first:
                first[following] = first[status]
                queue.append(following)
    return None


def refusal_message(request: PartnerRequest, *, current: str, to_status: str) -> str:
    """Why the request cannot move to `to_status`, and what to do first when there is a way:
    "RH-000012 is submitted; mark it in progress first."
    """
    names = {"reference": request.reference, "status": _label(current), "to": _label(to_status)}
    step = _first_step(request.kind, current, to_status)
    if step is not None:
        return _("%(reference)s is %(status)s; mark it %(step)s first.") % {
            **names,
            "step": _label(step),
        }
    return _("%(reference)s is %(status)s, so it cannot become %(to)s.") % names


def _send_to_ae(request: PartnerRequest, *, actor: User | None) -> None:
    """An approved bulk launch goes straight on to an AE, with a fresh protection period."""
    ae = request.assigned_ae or choose_ae(partner=request.partner)
    _transition(
        request,
        to_status=RequestStatus.SUBMITTED,
        actor=actor,
        note=_("Sent to the account executive."),
        assigned_ae=ae,
        protected_until=timezone.now() + timedelta(days=settings.PROTECTION_DAYS),
        expiry_warning_sent_at=None,
    )


def change_status(
    *,
    request: PartnerRequest,
    to_status: str,
    actor: User | None,
    note: str = "",
    notify: bool = True,
) -> PartnerRequest:
    """The one way a request changes status: checked, recorded, e-mailed to the partner.

    Approving a launch that waited for the Dealdesk also assigns its AE and submits it.
    Raises InvalidTransition for a change the life cycle does not allow.
    """
    with transaction.atomic():
        _transition(request, to_status=to_status, actor=actor, note=note)
        sent_to_ae = request.kind == RequestKind.LAUNCH and to_status == RequestStatus.APPROVED
        if sent_to_ae:
            _send_to_ae(request, actor=actor)
    if notify:
        notifications.notify_status_changed([request], status=to_status, note=note)
        if sent_to_ae:
            notifications.notify_assigned([request], ae=request.assigned_ae)
    return request


@dataclass
class BulkDecision:
    changed: list[PartnerRequest] = field(default_factory=list)
    skipped: list[PartnerRequest] = field(default_factory=list)


def _decide_pending(
    requests: Iterable[PartnerRequest], *, to_status: str, actor: User, note: str
) -> BulkDecision:
    outcome = BulkDecision()
    for request in requests:
        if request.kind != RequestKind.LAUNCH or request.status != RequestStatus.PENDING_APPROVAL:
            outcome.skipped.append(request)
            continue
        try:
            change_status(
                request=request, to_status=to_status, actor=actor, note=note, notify=False
            )
        except InvalidTransition:
            outcome.skipped.append(request)
        else:
            outcome.changed.append(request)
    # One e-mail per submitter (and per AE) for the whole batch, not one per row.
    notifications.notify_status_changed(outcome.changed, status=to_status, note=note)
    return outcome


def approve_bulk_launches(*, requests: Iterable[PartnerRequest], actor: User) -> BulkDecision:
    """Dealdesk approval: each pending launch goes to an AE; other requests are skipped."""
    outcome = _decide_pending(requests, to_status=RequestStatus.APPROVED, actor=actor, note="")
    by_ae: dict[int | None, list[PartnerRequest]] = defaultdict(list)
    for request in outcome.changed:
        by_ae[request.assigned_ae_id].append(request)
    for grouped in by_ae.values():
        notifications.notify_assigned(grouped, ae=grouped[0].assigned_ae)
    return outcome


def reject_bulk_launches(
    *, requests: Iterable[PartnerRequest], actor: User, note: str = ""
) -> BulkDecision:
    """Dealdesk rejection: each pending launch is closed and its company freed."""
    return _decide_pending(requests, to_status=RequestStatus.REJECTED, actor=actor, note=note)


def reassign_ae(*, request: PartnerRequest, ae: User | None, actor: User | None) -> None:
    """Give the request to another AE, who is told."""
    if ae == request.assigned_ae:
        return
    request.assigned_ae = ae
    request.save(update_fields=["assigned_ae", "updated_at"])
    if ae is not None and request.status not in (
        RequestStatus.PENDING_APPROVAL,
        RequestStatus.REJECTED,
    ):
        notifications.notify_assigned([request], ae=ae)


def withdraw_refusal(request: PartnerRequest) -> str:
    """Why the partner cannot withdraw this request now ("" when it can)."""
    if request.status in WITHDRAWABLE_STATUSES:
        return ""
    if request.status == RequestStatus.WITHDRAWN:
        return _("This request was already withdrawn.")
    if request.status in (RequestStatus.IN_PROGRESS, RequestStatus.APPROVED):
        return _(
            "Wellhub is already working on this request, so it can no longer be withdrawn. "
            "Write to your account executive below instead."
        )
    return _("This request is closed, so there is nothing to withdraw.")


def withdraw_request(*, request: PartnerRequest, user: User) -> PartnerRequest:
    """The partner takes back its request while nobody works on it yet; a launch frees its
    company at once. Recorded with who did it and told to the AE. Raises InvalidTransition."""
    refusal = withdraw_refusal(request)
    if refusal:
        raise InvalidTransition(refusal)
    was = request.status
    fields: dict[str, Any] = {}
    if request.kind == RequestKind.LAUNCH:
        fields["protected_until"] = timezone.now()
    with transaction.atomic():
        try:
            _transition(
                request,
                to_status=RequestStatus.WITHDRAWN,
                actor=user,
                note=_("Withdrawn by the partner."),
                **fields,
            )
        except InvalidTransition:
            # Someone changed it meanwhile: say why from its status now.
            request.refresh_from_db(fields=["status"])
            refusal = withdraw_refusal(request) or _("Reload the page and try again.")
            raise InvalidTransition(refusal) from None
        notifications.notify_withdrawn(request, by=user, was=was)
    return request
