"""Follow-ups for a client: upsell (products it lacks) and payment takeover (products it pays
directly; reseller model only). Each is told to the team that answers it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessModel, Partner, User
from accounts.rules import acting_partner, business_model_refusal, takeover_refusal
from eligibility.decision import Decision, ProductLine
from eligibility.models import Company
from eligibility.taxid import protection_key
from requests_app import notifications
from requests_app.business_days import add_business_days
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from requests_app.selectors import open_followup
from requests_app.shared import RequestRefused, checked_decision, record_creation, refusal_for


def takeover_due_date(*, submitted_at: datetime, country: str) -> date:
    """The answer date: N business days after submission, the company's holidays excluded."""
    return add_business_days(
        timezone.localdate(submitted_at), settings.TAKEOVER_BUSINESS_DAYS, country
    )


def offered_products(decision: Decision, kind: str) -> list[ProductLine]:
    """The products a request of ``kind`` may name for this company."""
    if kind == RequestKind.TAKEOVER:
        return list(decision.takeover_products)
    return list(decision.upsell_products)


def already_open_refusal(existing: PartnerRequest) -> RequestRefused:
    return RequestRefused(
        "already_open",
        _("Your organisation already has an open %(kind)s request for this company: %(reference)s.")
        % {"kind": existing.get_kind_display().lower(), "reference": existing.reference},
        existing=existing,
    )


def followup_refusal(*, partner: Partner, kind: str, decision: Decision) -> RequestRefused | None:
    """Why the partner cannot start an upsell or takeover for this company (None when it can)."""
    if kind == RequestKind.TAKEOVER:
        reason = takeover_refusal(partner)
        if reason:
            return RequestRefused("takeover_needs_reseller", reason)
    refusal = refusal_for(decision, kind)
    if refusal is not None:
        return refusal
    assert decision.company is not None  # noqa: S101 - a client's decision names its company
    existing = open_followup(partner=partner, kind=kind, company_id=decision.company.id)
    if existing is not None:
        return already_open_refusal(existing)
    if not offered_products(decision, kind):
        return RequestRefused(
            "no_products", _("There are no products to request for this company.")
        )
    return None


def followup_model_refusal(*, partner: Partner, kind: str, business_model: str) -> str:
    """Why a follow-up of ``kind`` cannot be sent under this business model ("" when it can).

    A payment takeover means the partner bills the client: the reseller model only.
    """
    if kind == RequestKind.TAKEOVER and business_model != BusinessModel.RESELLER:
        return _("A payment takeover is only possible as a reseller.")
    return business_model_refusal(partner, business_model)


def followup_model_choices(*, partner: Partner, kind: str) -> list[tuple[str, str]]:
    """The business models (value, label) a follow-up of ``kind`` may be sent under."""
    return [
        (value, label)
        for value, label in partner.business_model_choices()
        if not followup_model_refusal(partner=partner, kind=kind, business_model=value)
    ]


def _chosen_products(
    *, kind: str, partner: Partner, decision: Decision, business_model: str, codes: list[str]
) -> list[ProductLine]:
    """The offered products behind ``codes``, or RequestRefused (also for the business model)."""
    refusal = followup_model_refusal(partner=partner, kind=kind, business_model=business_model)
    if refusal:
        raise RequestRefused("business_model", refusal)
    offered = {product.code: product for product in offered_products(decision, kind)}
    if not codes:
        raise RequestRefused("no_products", _("Choose at least one product."))
    if not set(codes) <= offered.keys():
        raise RequestRefused(
            "invalid_products",
            _(
                "One of the chosen products cannot be requested for this "
                "company. Check the company again and choose from the list."
            ),
        )
    return [offered[code] for code in codes]


def create_followup(
    *,
    kind: str,
    user: User,
    country: str,
    tax_id: str,
    company_name: str = "",
    products: Sequence[str],
    business_model: str,
    notify: bool = True,
) -> PartnerRequest:
    """An upsell or payment-takeover request for a client; the team that answers is told."""
    partner = acting_partner(user)
    decision = checked_decision(
        user=user, country=country, tax_id=tax_id, company_name=company_name
    )
    refusal = followup_refusal(partner=partner, kind=kind, decision=decision)
    if refusal is not None:
        raise refusal
    chosen = _chosen_products(
        kind=kind,
        partner=partner,
        decision=decision,
        business_model=business_model,
        codes=list(dict.fromkeys(products)),
    )
    request = _insert_followup(
        kind=kind,
        partner=partner,
        user=user,
        decision=decision,
        company_name=company_name,
        business_model=business_model,
        products=chosen,
    )
    if notify:
        notifications.notify_team_of_followup(request)
        notifications.notify_partner_submitted(request)
    return request


def _insert_followup(
    *,
    kind: str,
    partner: Partner,
    user: User,
    decision: Decision,
    company_name: str,
    business_model: str,
    products: list[ProductLine],
) -> PartnerRequest:
    """Create the request with its products; a second open one is refused by the database."""
    assert decision.company is not None  # noqa: S101 - a client's decision names its company
    line = decision.company
    now = timezone.now()
    try:
        with transaction.atomic():
            request = PartnerRequest.objects.create(
                kind=kind,
                status=RequestStatus.SUBMITTED,
                partner=partner,
                created_by=user,
                company=Company.objects.get(pk=line.id),
                protection_key=protection_key(line.country, line.tax_id),
                company_name=(company_name or "").strip()[:255],
                business_model=business_model,
                due_date=takeover_due_date(submitted_at=now, country=line.country)
                if kind == RequestKind.TAKEOVER
                else None,
                created_at=now,
            )
            record_creation(request, actor=user)
            request.products.set([product.id for product in products])
    except IntegrityError as exc:
        existing = open_followup(partner=partner, kind=kind, company_id=line.id)
        if existing is None:
            raise
        raise already_open_refusal(existing) from exc
    return request
