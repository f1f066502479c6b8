"""Partner pages: send launch, upsell and takeover requests; list and read requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.rules import acting_partner
from core.countries import country_name
from eligibility.decision import Decision
from eligibility.taxid import format_tax_id, validate_tax_id
from requests_app import selectors
from requests_app.conversation import post_partner_message
from requests_app.followups import (
    create_followup,
    followup_model_choices,
    followup_refusal,
    offered_products,
    takeover_due_date,
)
from requests_app.forms import (
    COMPANY_NAME_MAX_LENGTH,
    TAX_ID_MAX_LENGTH,
    FollowupForm,
    LaunchForm,
    MessageForm,
)
from requests_app.launch import create_launch
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from requests_app.shared import (
    InvalidTransition,
    RequestRefused,
    checked_decision,
    preview_decision,
    refusal_for,
)
from requests_app.status import withdraw_refusal, withdraw_request
from requests_app.templatetags.requests_tags import status_badge

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    return user


def _company_values(source: QueryDict) -> dict[str, str]:
    """The checked company as carried in the query string (GET) or hidden fields (POST)."""
    return {
        "country": source.get("country", "").strip().upper()[:8],
        "tax_id": source.get("tax_id", "")[:TAX_ID_MAX_LENGTH],
        "company_name": source.get("company_name", "")[:COMPANY_NAME_MAX_LENGTH],
    }


def _company_card(values: dict[str, str], decision: Decision | None) -> dict[str, str]:
    validation = validate_tax_id(values["country"], values["tax_id"])
    return {
        "country": values["country"],
        "country_name": country_name(values["country"]),
        "tax_id": format_tax_id(validation.country, validation.compact)
        if validation.is_valid
        else values["tax_id"],
        "name": (decision.shown_legal_name if decision else "") or values["company_name"],
    }


def _logged_check(request: HttpRequest, values: dict[str, str]) -> Decision:
    """Opening a request form for a company is a check of it: decided and logged once."""
    return checked_decision(
        user=_user(request),
        country=values["country"],
        tax_id=values["tax_id"],
        company_name=values["company_name"],
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_launch(request: HttpRequest) -> HttpResponse:
    partner = acting_partner(_user(request))
    refusal = None
    if request.method == "POST":
        form = LaunchForm(request.POST, partner=partner)
        values = form.company_values()
        decision = None
        if form.is_valid():
            try:
                launch = create_launch(user=_user(request), **form.cleaned_data)
            except RequestRefused as refused:
                refusal = refused
            else:
                messages.success(
                    request,
                    _("Launch request %(reference)s sent.") % {"reference": launch.reference},
                )
                return redirect(launch)
    else:
        values = _company_values(request.GET)
        decision = _logged_check(request, values)
        refusal = refusal_for(decision)
        if refusal is None:
            values = {**values, "country": decision.country, "tax_id": decision.tax_id}
            # The name typed on the check, else the registry's (an available company only).
            registry_name = decision.company.legal_name if decision.company else ""
            values["company_name"] = values["company_name"] or registry_name
        form = LaunchForm(initial=values, partner=partner)
    return render(
        request,
        "requests_app/launch_form.html",
        {
            "form": form,
            "refusal": refusal,
            "company": _company_card(values, decision),
            "protection_days": settings.PROTECTION_DAYS,
        },
    )


def _followup(request: HttpRequest, kind: str) -> HttpResponse:
    partner = acting_partner(_user(request))
    template = f"requests_app/{kind}_form.html"
    values = _company_values(request.POST if request.method == "POST" else request.GET)
    context: dict = {
        "form": None,
        "refusal": None,
        "kind": kind,
        "business_days": settings.TAKEOVER_BUSINESS_DAYS,
    }

    def page(status: int = 200, decision: Decision | None = None) -> HttpResponse:
        context["company"] = _company_card(values, decision)
        return render(request, template, context, status=status)

    if request.method == "POST":
        # The submission's own check is logged by create_followup; this one lists the products.
        decision = preview_decision(
            partner=partner, country=values["country"], tax_id=values["tax_id"]
        )
    else:
        decision = _logged_check(request, values)
    refusal = followup_refusal(partner=partner, kind=kind, decision=decision)
    if refusal is not None:
        context["refusal"] = refusal
        # A referral-only partner is told why on the form; a hand-made POST is forbidden.
        forbidden = request.method == "POST" and refusal.reason_code == "takeover_needs_reseller"
        return page(status=403 if forbidden else 200, decision=decision)
    products = offered_products(decision, kind)
    values = {**values, "country": decision.country, "tax_id": decision.tax_id}
    form_kwargs: dict[str, Any] = {
        "products": products,
        "business_models": followup_model_choices(partner=partner, kind=kind),
    }
    if request.method == "POST":
        form = FollowupForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                created = create_followup(kind=kind, user=_user(request), **form.cleaned_data)
            except RequestRefused as refused:
                context["refusal"] = refused
                return page(decision=decision)
            messages.success(
                request,
                _("%(kind)s request %(reference)s sent.")
                % {"kind": created.get_kind_display(), "reference": created.reference},
            )
            return redirect(created)
    else:
        form = FollowupForm(initial=values, **form_kwargs)
    context["form"] = form
    if kind == RequestKind.TAKEOVER:
        context["due_date"] = takeover_due_date(
            submitted_at=timezone.now(), country=decision.country
        )
    return page(decision=decision)


@login_required
@require_http_methods(["GET", "POST"])
def new_upsell(request: HttpRequest) -> HttpResponse:
    return _followup(request, RequestKind.UPSELL)


@login_required
@require_http_methods(["GET", "POST"])
def new_takeover(request: HttpRequest) -> HttpResponse:
    return _followup(request, RequestKind.TAKEOVER)


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One line of the request list, ready to show.

    Built here rather than with template filters: a page of 25 requests drawn with date, label
    and badge filters cost several times the queries behind it.
    """

    reference: str
    url: str
    status: str
    status_label: str
    badge: str
    kind_label: str
    company_name: str
    country: str
    tax_id: str
    sent: str
    sent_iso: str
    due: str
    due_iso: str
    protected_until: str
    protected_until_iso: str


# What a line of the list reads of a request and its company.
_LIST_FIELDS = (
    "reference",
    "kind",
    "status",
    "company_name",
    "created_at",
    "due_date",
    "protected_until",
    "company__country",
    "company__tax_id",
    "company__legal_name",
)


def _request_rows(
    requests: Iterable[PartnerRequest], status_labels: dict[str, str], kind_labels: dict[str, str]
) -> list[RequestRow]:
    rows = []
    for item in requests:
        company = item.company
        sent = localtime(item.created_at)
        protected = item.protected_until if item.is_open else None
        protected = localtime(protected) if protected else None
        rows.append(
            RequestRow(
                reference=item.reference or "",
                url=item.get_absolute_url(),
                status=item.status,
                status_label=status_labels.get(item.status, item.status),
                badge=status_badge(item.status),
                kind_label=kind_labels.get(item.kind, item.kind),
                company_name=item.display_company_name,
                country=company.country,
                tax_id=format_tax_id(company.country, company.tax_id),
                sent=date_format(sent, "DATE_FORMAT"),
                sent_iso=sent.isoformat(),
                due=date_format(item.due_date, "DATE_FORMAT") if item.due_date else "",
                due_iso=item.due_date.isoformat() if item.due_date else "",
                protected_until=date_format(protected, "DATE_FORMAT") if protected else "",
                protected_until_iso=protected.isoformat() if protected else "",
            )
        )
    return rows


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    partner = acting_partner(_user(request))
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    status = status if status in RequestStatus.values else ""
    kind = kind if kind in RequestKind.values else ""
    queryset = selectors.partner_requests(partner=partner, status=status, kind=kind)
    page = Paginator(queryset.only(*_LIST_FIELDS), PAGE_SIZE).get_page(request.GET.get("page"))
    # The labels, translated once per page rather than once per row and field
    # (get_FOO_display rebuilds and translates the whole list of choices at every call).
    status_choices = [(value, str(label)) for value, label in RequestStatus.choices]
    kind_choices = [(value, str(label)) for value, label in RequestKind.choices]
    return render(
        request,
        "requests_app/list.html",
        {
            "page": page,
            "rows": _request_rows(page, dict(status_choices), dict(kind_choices)),
            "status": status,
            "kind": kind,
            "status_choices": status_choices,
            "kind_choices": kind_choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The request's page; its forms post here: `message` (to the AE) and `withdraw`."""
    user = _user(request)
    acting_partner(user)
    partner_request = selectors.get_partner_request(user=user, reference=reference)
    message_form = MessageForm()
    if request.method == "POST" and "withdraw" in request.POST:
        try:
            withdraw_request(request=partner_request, user=user)
        except InvalidTransition as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("Request %(reference)s was withdrawn.")
                % {"reference": partner_request.reference},
            )
        return redirect(partner_request)
    if request.method == "POST":
        message_form = MessageForm(request.POST)
        if message_form.is_valid():
            post_partner_message(
                user=user, request=partner_request, body=message_form.cleaned_data["message"]
            )
            messages.success(request, _("Your message was sent."))
            return redirect(f"{partner_request.get_absolute_url()}#conversation")
    return render(
        request,
        "requests_app/detail.html",
        {
            "req": partner_request,
            "timeline": selectors.timeline(partner_request),
            "message_form": message_form,
            "withdraw_refusal": withdraw_refusal(partner_request),
        },
        status=400 if message_form.errors else 200,
    )
