"""Launch requests: a partner asks to bring an `available` company to Wellhub and holds it.

The database allows one open launch per protection key (a company with its branches), so two
partners never both hold a company, even when they submit at the same moment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner, User
from accounts.rules import acting_partner, business_model_refusal
from eligibility.decision import REASON_MESSAGES, Decision, Reason
from eligibility.models import Company
from eligibility.taxid import protection_key
from requests_app import notifications
from requests_app.models import (
    PartnerRequest,
    RequestKind,
    RequestStatus,
    parse_employee_count,
    validate_contact_phone,
)
from requests_app.selectors import choose_ae, open_launch_holding
from requests_app.shared import RequestRefused, checked_decision, record_creation, refusal_for


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
    checks: tuple[tuple[str, Any, object], ...] = (
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
    refusal = business_model_refusal(partner, business_model)
    if refusal:
        errors["business_model"] = refusal
    return errors


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
    bulk_job: Model | None = None,
    bulk_row: int | None = None,
    pending_approval: bool = False,
    notify: bool = True,
    decision: Decision | None = None,
    partner: Partner | None = None,
) -> PartnerRequest:
    """Send a launch request for an `available` company, or raise RequestRefused.

    Checked and logged here, unless the caller gives the ``decision`` it already made and
    logged (a bulk row). A bulk row's launch is for the ``partner`` its job acts for; any other
    is for the user's own. Idempotent per (bulk_job, bulk_row). With ``pending_approval`` it
    waits for the Dealdesk: no AE yet, no e-mail (see notify_dealdesk_of_bulk_launches).
    (Past 50 lines only by its signature: one keyword per field of the launch form.)
    """
    partner = partner or acting_partner(user)
    already = _bulk_row_launch(bulk_job, bulk_row)
    if already is not None:
        return already
    details: dict[str, Any] = {
        "contact_name": contact_name,
        "contact_email": contact_email,
        "contact_phone": contact_phone,
        "employee_count": employee_count,
        "business_model": business_model,
    }
    errors = launch_details_errors(partner=partner, **details)
    if errors:
        raise RequestRefused("invalid_details", " ".join(errors.values()))
    if decision is None:
        decision = checked_decision(
            user=user, country=country, tax_id=tax_id, company_name=company_name
        )
    _refuse_unless_available(decision)
    fields = {
        "status": RequestStatus.PENDING_APPROVAL if pending_approval else RequestStatus.SUBMITTED,
        "assigned_ae": None if pending_approval else choose_ae(partner=partner),
        # What the partner calls it, else the registry's name: never a launch without one
        # when either is known.
        "company_name": " ".join((company_name or "").split())[:255]
        or (decision.company.legal_name if decision.company else ""),
        **_stored_details(details),
    }
    launch = _insert_launch(
        partner=partner, user=user, decision=decision, bulk=(bulk_job, bulk_row), fields=fields
    )
    if notify and not pending_approval:
        notifications.notify_launch_submitted(launch)
    return launch


def _refuse_unless_available(decision: Decision) -> None:
    refusal = refusal_for(decision)
    if refusal is not None:
        raise refusal


def _bulk_row_launch(bulk_job: Model | None, bulk_row: int | None) -> PartnerRequest | None:
    """The launch already made for this line of a bulk file, if any."""
    if bulk_job is None or bulk_row is None:
        return None
    return PartnerRequest.objects.filter(bulk_job_id=bulk_job.pk, bulk_row=bulk_row).first()


def _stored_details(details: dict[str, Any]) -> dict[str, Any]:
    """The contact and commercial data as stored (checked by launch_details_errors first)."""
    return {
        "business_model": details["business_model"],
        "contact_name": details["contact_name"].strip(),
        "contact_email": details["contact_email"].strip(),
        "contact_phone": " ".join(details["contact_phone"].split()),
        "employee_count": parse_employee_count(details["employee_count"]),
    }


def _insert_launch(
    *,
    partner: Partner,
    user: User,
    decision: Decision,
    bulk: tuple[Model | None, int | None],
    fields: dict[str, Any],
) -> PartnerRequest:
    """Create the launch and its registry company together; a refused insert is explained."""
    key = protection_key(decision.country, decision.tax_id)
    try:
        with transaction.atomic():
            company, _created = Company.objects.get_or_create(
                country=decision.country,
                tax_id=decision.tax_id,
                defaults={"status": Company.Status.PROSPECT},
            )
            launch = PartnerRequest.objects.create(
                kind=RequestKind.LAUNCH,
                partner=partner,
                created_by=user,
                company=company,
                protection_key=key,
                protected_until=timezone.now() + timedelta(days=settings.PROTECTION_DAYS),
                bulk_job_id=bulk[0].pk if bulk[0] is not None else None,
                bulk_row=bulk[1],
                **fields,
            )
            record_creation(launch, actor=user)
    except IntegrityError as exc:
        raise _launch_conflict(partner=partner, key=key, bulk=bulk) from exc
    return launch


def _launch_conflict(
    *, partner: Partner, key: str, bulk: tuple[Model | None, int | None]
) -> RequestRefused:
    """Explain an insert the database refused: someone holds the company (maybe we do)."""
    holder = open_launch_holding(key)
    if holder is not None and holder.partner_id == partner.pk:
        message = str(REASON_MESSAGES[Reason.OWN_OPEN_REQUEST]) % {"reference": holder.reference}
        return RequestRefused(Reason.OWN_OPEN_REQUEST, message, existing=holder)
    same_row = _bulk_row_launch(*bulk) if holder is None else None
    if same_row is not None:
        return RequestRefused(
            "bulk_row_launched", _("This row was already launched."), existing=same_row
        )
    return RequestRefused(Reason.PROTECTED, str(REASON_MESSAGES[Reason.PROTECTED]))


def notify_dealdesk_of_bulk_launches(*, job: notifications.BulkJob, count: int) -> None:
    """One e-mail to the Dealdesk: ``count`` launches of ``job`` wait for approval."""
    if count > 0:
        notifications.notify_dealdesk(job=job, count=count)
