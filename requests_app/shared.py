"""What every request use case shares: its two refusals, reading a company before sending a
request, the human reference and the first line of the status history."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import Partner, User
from eligibility.decision import Decision, invalid_decision
from eligibility.models import EligibilityCheck
from eligibility.services import check_company, decide_many
from eligibility.taxid import validate_tax_id
from requests_app.models import PartnerRequest, RequestEvent, RequestKind, format_reference


class RequestRefused(Exception):
    """The request cannot be sent; ``message`` tells the partner why, in their words."""

    def __init__(
        self, reason_code: str, message: str, *, existing: PartnerRequest | None = None
    ) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = str(message)
        # The partner's own open request that stands in the way, when there is one.
        self.existing = existing


class InvalidTransition(Exception):
    """A status change the life cycle does not allow (or that someone else made first)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


def preview_decision(*, partner: Partner, country: str, tax_id: str) -> Decision:
    """The decision behind a request form being sent, not logged: the form was opened with a
    logged check (`checked_decision`) and the submission logs its own."""
    validation = validate_tax_id(country, tax_id)
    if not validation.is_valid:
        return invalid_decision(validation)
    (decision,) = decide_many(partner=partner, items=[(validation.country, validation.compact)])
    return decision


def checked_decision(*, user: User, country: str, tax_id: str, company_name: str) -> Decision:
    """The decision for a request being sent, logged as a check of the request's."""
    return check_company(
        user=user,
        country=country,
        raw_tax_id=tax_id,
        company_name=company_name,
        source=EligibilityCheck.Source.REQUEST,
    )


def refusal_for(decision: Decision, kind: str = RequestKind.LAUNCH) -> RequestRefused | None:
    """Why a request of ``kind`` cannot be sent for this decision (None when it can)."""
    if kind == RequestKind.LAUNCH and decision.is_available:
        return None
    if kind != RequestKind.LAUNCH and decision.is_client:
        return None
    if kind != RequestKind.LAUNCH and decision.is_available:
        return RequestRefused(
            "not_a_client",
            _("This company is not a Wellhub client yet: send a launch request instead."),
        )
    existing = None
    if decision.own_request is not None:
        existing = PartnerRequest.objects.filter(pk=decision.own_request.id).first()
    return RequestRefused(decision.reason, decision.message, existing=existing)


def record_creation(request: PartnerRequest, *, actor: User | None) -> None:
    """Give a new request its reference and the first line of its history."""
    request.reference = format_reference(request.pk)
    request.save(update_fields=["reference"])
    RequestEvent.objects.create(
        request=request, actor=actor, from_status="", to_status=request.status
    )
