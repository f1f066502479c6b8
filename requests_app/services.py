"""Request use cases: sending launch, upsell and takeover requests, status changes, expiry.

Views, admin actions, the bulk worker and the daily task all call these functions, so each rule
(who may ask for what, which status follows which, who is told) has one home.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessModel, Partner, User
from accounts.roles import AE_GROUP
from eligibility.models import Company, EligibilityCheck
from eligibility.services import (
    REASON_MESSAGES,
    Decision,
    Reason,
    check_company,
    decide_many,
    invalid_decision,
    protection_key,
)
from eligibility.taxid import validate_tax_id
from requests_app import notifications
from requests_app.business_days import add_business_days
from requests_app.models import (
    OPEN_LAUNCH_STATUSES,
    TRANSITIONS,
    PartnerRequest,
    RequestEvent,
    RequestKind,
    RequestStatus,
    format_reference,
    parse_employee_count,
    validate_contact_phone,
)
from requests_app.selectors import open_followup


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


# --- Reading a company before sending a request -----------------------------------------------


def preview_decision(*, partner: Partner, country: str, tax_id: str) -> Decision:
    """The eligibility decision for a request form (not logged: showing a form is no check)."""
    validation = validate_tax_id(country, tax_id)
    if not validation.is_valid:
        return invalid_decision(validation)
    (decision,) = decide_many(partner=partner, items=[(validation.country, validation.compact)])
    return decision


def _active_partner(user: User) -> Partner:
    partner = user.active_partner
    if partner is None:
        raise RequestRefused(
            "no_partner", _("Only users of an active partner organisation can send requests.")
        )
    return partner


def _check(*, user: User, country: str, tax_id: str, company_name: str) -> Decision:
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
    existing = decision.own_request if isinstance(decision.own_request, PartnerRequest) else None
    return RequestRefused(decision.reason, decision.message, existing=existing)


def _set_reference(request: PartnerRequest) -> None:
    request.reference = format_reference(request.pk)
    request.save(update_fields=["reference"])


def _record(request: PartnerRequest, *, actor: User | None, from_status: str, note: str = ""):
    RequestEvent.objects.create(
        request=request, actor=actor, from_status=from_status, to_status=request.status, note=note
    )


# --- Launch requests --------------------------------------------------------------------------


def launch_details_errors(
    *,
    partner: Partner,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    employee_count: object,
    business_model: str,
) -> dict[str, str]:
    """Field name -> what is wrong with the contact and commercial data of a launch."""
    errors: dict[str, str] = {}
    if not (contact_name or "").strip():
        errors["contact_name"] = _("Enter the name of the person to contact.")
    elif len(contact_name.strip()) > 200:
        errors["contact_name"] = _("The contact name can be at most 200 characters.")
    checks = (
        ("contact_email", validate_email, (contact_email or "").strip()),
        ("contact_phone", validate_contact_phone, (contact_phone or "").strip()),
        ("employee_count", parse_employee_count, employee_count),
    )
    for name, validate, value in checks:
        try:
            validate(value)
        except ValidationError as exc:
            errors[name] = " ".join(str(message) for message in exc.messages)
    if len((contact_email or "").strip()) > 254 and "contact_email" not in errors:
        errors["contact_email"] = _("The contact e-mail address is too long.")
    if business_model not in partner.business_models:
        errors["business_model"] = _("Choose a business model your organisation is allowed.")
    return errors


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


def create_launch(
    *,
    user: User,
    country: str,
    tax_id: str,
    company_name: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    employee_count: int | str,
    business_model: str,
    bulk_job=None,
    bulk_row: int | None = None,
    pending_approval: bool = False,
    notify: bool = True,
    decision: Decision | None = None,
) -> PartnerRequest:
    """Send a launch request for an `available` company, or raise RequestRefused.

    The company is decided again here, and the database refuses a second open launch for it
    even when two partners submit at the same moment. For a bulk row the call is idempotent:
    a second call for the same (bulk_job, bulk_row) returns the request the first one made.
    With ``pending_approval`` the request waits for the Dealdesk: no AE yet, and no e-mail
    (the Dealdesk hears once per job through notify_dealdesk_of_bulk_launches).
    A ``decision`` already made and logged by the caller is used as it is (no second check or
    log line); a bulk row's launch is for the partner of its job.
    """
    partner = bulk_job.partner if bulk_job is not None else _active_partner(user)
    if bulk_job is not None and bulk_row is not None:
        already = PartnerRequest.objects.filter(bulk_job=bulk_job, bulk_row=bulk_row).first()
        if already is not None:
            return already
    errors = launch_details_errors(
        partner=partner,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        employee_count=employee_count,
        business_model=business_model,
    )
    if errors:
        raise RequestRefused("invalid_details", " ".join(errors.values()))
    if decision is None:
        decision = _check(user=user, country=country, tax_id=tax_id, company_name=company_name)
    refusal = refusal_for(decision)
    if refusal is not None:
        raise refusal

    status = RequestStatus.PENDING_APPROVAL if pending_approval else RequestStatus.SUBMITTED
    ae = None if pending_approval else choose_ae(partner=partner)
    key = protection_key(decision.country, decision.tax_id)
    try:
        with transaction.atomic():
            company = decision.company or _registry_company(decision)
            launch = PartnerRequest.objects.create(
                kind=RequestKind.LAUNCH,
                status=status,
                partner=partner,
                created_by=user,
                company=company,
                protection_key=key,
                company_name=(company_name or "").strip()[:255],
                business_model=business_model,
                contact_name=contact_name.strip(),
                contact_email=contact_email.strip(),
                contact_phone=" ".join(contact_phone.split()),
                employee_count=parse_employee_count(employee_count),
                assigned_ae=ae,
                protected_until=timezone.now() + timedelta(days=settings.PROTECTION_DAYS),
                bulk_job=bulk_job,
                bulk_row=bulk_row,
            )
            _set_reference(launch)
            _record(launch, actor=user, from_status="")
    except IntegrityError as exc:
        raise _launch_conflict(
            partner=partner, key=key, bulk_job=bulk_job, bulk_row=bulk_row
        ) from exc
    if notify and not pending_approval:
        notifications.notify_launch_submitted(launch)
    return launch


def _registry_company(decision: Decision) -> Company:
    company, _created = Company.objects.get_or_create(
        country=decision.country,
        tax_id=decision.tax_id,
        defaults={"status": Company.Status.PROSPECT},
    )
    return company


def _launch_conflict(*, partner: Partner, key: str, bulk_job, bulk_row) -> RequestRefused:
    """Explain an insert the database refused: someone holds the company (maybe we do)."""
    holder = PartnerRequest.objects.filter(
        kind=RequestKind.LAUNCH, status__in=OPEN_LAUNCH_STATUSES, protection_key=key
    ).first()
    if holder is not None and holder.partner_id == partner.pk:
        return RequestRefused(
            Reason.OWN_OPEN_REQUEST, REASON_MESSAGES[Reason.OWN_OPEN_REQUEST], existing=holder
        )
    if holder is None and bulk_job is not None:
        same_row = PartnerRequest.objects.filter(bulk_job=bulk_job, bulk_row=bulk_row).first()
        if same_row is not None:
            return RequestRefused(
                "bulk_row_launched", _("This row was already launched."), existing=same_row
            )
    return RequestRefused(Reason.PROTECTED, REASON_MESSAGES[Reason.PROTECTED])


def notify_dealdesk_of_bulk_launches(*, job, count: int) -> None:
    """One e-mail to the Dealdesk: ``count`` launches of ``job`` wait for approval."""
    if count > 0:
        notifications.notify_dealdesk(job=job, count=count)


# --- Upsell and payment takeover requests -----------------------------------------------------


def create_upsell(**details) -> PartnerRequest:
    """Ask to sell a client products it lacks; the sales team is told."""
    return create_followup(kind=RequestKind.UPSELL, **details)


def create_takeover(**details) -> PartnerRequest:
    """Ask to take over paying for products the client pays directly (reseller model only)."""
    return create_followup(kind=RequestKind.TAKEOVER, **details)


def takeover_refusal(partner: Partner) -> str:
    """Why this partner cannot take over payments ("" when it can)."""
    if partner.allows_reseller:
        return ""
    return _(
        "Taking over payment needs the reseller business model, which your organisation does "
        "not have. Ask your account executive if you want to add it."
    )


def takeover_due_date(*, submitted_at: datetime, country: str):
    """The answer date: N business days after submission, the company's holidays excluded."""
    return add_business_days(
        timezone.localdate(submitted_at), settings.TAKEOVER_BUSINESS_DAYS, country
    )


def offered_products(decision: Decision, kind: str) -> list:
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
    existing = open_followup(partner=partner, kind=kind, company=decision.company)
    if existing is not None:
        return already_open_refusal(existing)
    if not offered_products(decision, kind):
        return RequestRefused(
            "no_products", _("There are no products to request for this company.")
        )
    return None


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
    partner = _active_partner(user)
    decision = _check(user=user, country=country, tax_id=tax_id, company_name=company_name)
    refusal = followup_refusal(partner=partner, kind=kind, decision=decision)
    if refusal is not None:
        raise refusal
    if kind == RequestKind.TAKEOVER and business_model != BusinessModel.RESELLER:
        raise RequestRefused(
            "business_model", _("A payment takeover is only possible as a reseller.")
        )
    if business_model not in partner.business_models:
        raise RequestRefused(
            "business_model", _("Choose a business model your organisation is allowed.")
        )
    offered = {product.code: product for product in offered_products(decision, kind)}
    codes = list(dict.fromkeys(products))
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
    company = decision.company
    now = timezone.now()
    try:
        with transaction.atomic():
            request = PartnerRequest.objects.create(
                kind=kind,
                status=RequestStatus.SUBMITTED,
                partner=partner,
                created_by=user,
                company=company,
                protection_key=protection_key(company.country, company.tax_id),
                company_name=(company_name or "").strip()[:255],
                business_model=business_model,
                due_date=takeover_due_date(submitted_at=now, country=company.country)
                if kind == RequestKind.TAKEOVER
                else None,
                created_at=now,
            )
            _set_reference(request)
            request.products.set([offered[code] for code in codes])
            _record(request, actor=user, from_status="")
    except IntegrityError as exc:
        existing = open_followup(partner=partner, kind=kind, company=company)
        if existing is None:
            raise
        raise already_open_refusal(existing) from exc
    if notify:
        notifications.notify_team_of_followup(request)
        notifications.notify_partner_submitted(request)
    return request


# --- Status changes ---------------------------------------------------------------------------


def _transition(
    request: PartnerRequest,
    *,
    to_status: str,
    actor: User | None,
    note: str,
    **fields,
) -> None:
    """Move ``request`` to ``to_status`` with a conditional UPDATE and record it."""
    current = PartnerRequest.objects.filter(pk=request.pk).values_list("status", flat=True).first()
    allowed = TRANSITIONS.get(request.kind, {}).get(current, frozenset())
    if to_status not in allowed:
        raise InvalidTransition(
            _("%(reference)s cannot go from “%(from)s” to “%(to)s”.")
            % {
                "reference": request.reference,
                "from": RequestStatus(current).label if current else "—",
                "to": RequestStatus(to_status).label
                if to_status in RequestStatus.values
                else to_status,
            }
        )
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


# --- Protection expiry ------------------------------------------------------------------------


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
        report.expired.append(request.reference)

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
            report.warned.append(request.reference)
    return report
