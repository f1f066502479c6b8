"""Demo requests for the quickstart (seed_demo), made through the same services partners use."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from accounts.models import BusinessModel, Partner, User
from accounts.roles import AE_GROUP
from accounts.rules import acting_partner
from eligibility.models import Company
from eligibility.taxid import format_tax_id
from requests_app.followups import create_followup
from requests_app.launch import create_launch
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from requests_app.shared import RequestRefused, preview_decision
from requests_app.status import change_status

# Looked up in the registry the eligibility demo fills; anything missing is skipped.
PROTECTED_COMPANY = ("BR", "77420519000153")  # Beta Referrals holds an open launch on it
TAKEOVER_COMPANY = ("BR", "61350842000168")  # a client paying Wellhub directly
IN_PROGRESS_COMPANY = ("MX", "TEC950621AB4")  # a prospect Acme is already working on
AE_PERMISSIONS = ("view_partnerrequest", "change_partnerrequest", "view_requestevent")


def _company(country: str, tax_id: str) -> Company | None:
    return Company.objects.filter(country=country, tax_id=tax_id).first()


def _existing(partner: Partner, kind: str, company: Company) -> PartnerRequest | None:
    return PartnerRequest.objects.filter(partner=partner, kind=kind, company=company).first()


def _grant_ae_permissions() -> None:
    group, _created = Group.objects.get_or_create(name=AE_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="requests_app", codename__in=AE_PERMISSIONS
        )
    )


def _launch(user: User, company: Company, *, name: str, model: str) -> PartnerRequest | None:
    existing = _existing(acting_partner(user), RequestKind.LAUNCH, company)
    if existing is not None:
        return existing
    try:
        return create_launch(
            user=user,
            country=company.country,
            tax_id=company.tax_id,
            company_name=name,
            contact_name="Marina Souza",
            contact_email="marina.souza@example.com",
            contact_phone="+55 11 4002-8922",
            employee_count=180,
            business_model=model,
            notify=False,
        )
    except RequestRefused:
        return None


def _takeover(user: User, company: Company) -> PartnerRequest | None:
    partner = acting_partner(user)
    existing = _existing(partner, RequestKind.TAKEOVER, company)
    if existing is not None:
        return existing
    decision = preview_decision(partner=partner, country=company.country, tax_id=company.tax_id)
    codes = [product.code for product in decision.takeover_products]
    if not codes:
        return None
    try:
        return create_followup(
            kind=RequestKind.TAKEOVER,
            user=user,
            country=company.country,
            tax_id=company.tax_id,
            company_name=company.legal_name,
            products=codes,
            business_model=BusinessModel.RESELLER,
            notify=False,
        )
    except RequestRefused:
        return None


def seed() -> list[tuple[str, str]]:
    """Create a few demo requests (idempotent); return what to look at."""
    _grant_ae_permissions()
    lines: list[tuple[str, str]] = []
    bea = User.objects.filter(email="bea@beta.example", partner__isnull=False).first()
    ana = User.objects.filter(email="ana@acme.example", partner__isnull=False).first()
    ae = User.objects.filter(email="ae@wellhub.example", is_staff=True).first()

    protected = _company(*PROTECTED_COMPANY)
    if bea is not None and protected is not None:
        launch = _launch(bea, protected, name="Hotel Praia Dourada", model=BusinessModel.REFERRAL)
        if launch is not None:
            shown = format_tax_id(protected.country, protected.tax_id)
            lines.append(
                (
                    f"Request {launch.reference}",
                    f"Beta Referrals' open launch: BR {shown} is unavailable to others",
                )
            )

    target = _company(*IN_PROGRESS_COMPANY)
    if ana is not None and target is not None:
        launch = _launch(ana, target, name="Tecnologías del Centro", model=BusinessModel.RESELLER)
        if launch is not None and launch.status == RequestStatus.SUBMITTED:
            change_status(
                request=launch,
                to_status=RequestStatus.IN_PROGRESS,
                actor=ae,
                note="First meeting booked.",
                notify=False,
            )
        if launch is not None:
            lines.append(
                (
                    f"Request {launch.reference}",
                    "Acme Resellers' launch in progress (sign in as ana@acme.example)",
                )
            )

    client = _company(*TAKEOVER_COMPANY)
    if ana is not None and client is not None:
        takeover = _takeover(ana, client)
        if takeover is not None:
            lines.append(
                (
                    f"Request {takeover.reference}",
                    f"Acme Resellers' payment takeover, answer due {takeover.due_date}",
                )
            )
    return lines
