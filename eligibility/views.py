"""Partner pages of the eligibility app: the single check by Tax ID."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.models import Partner, User
from eligibility.forms import COMPANY_NAME_MAX_LENGTH, CheckForm
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.services import Decision, check_company
from eligibility.taxid import MAX_INPUT_LENGTH, SUPPORTED_COUNTRIES

RECENT_CHECKS_SHOWN = 10

# Invalid results that are about the country rather than the Tax ID itself.
COUNTRY_REASONS = frozenset({"unsupported_country"})


def _partner_of(user: User) -> Partner:
    """The user's organisation; staff accounts and inactive partners cannot check companies."""
    partner = user.partner
    if partner is None or not partner.is_active:
        raise PermissionDenied
    return partner


def _recent_checks(*, user: User, partner: Partner) -> QuerySet[EligibilityCheck]:
    return EligibilityCheck.objects.filter(
        user=user, partner=partner, source=EligibilityCheck.Source.SINGLE
    ).order_by("-created_at", "-pk")[:RECENT_CHECKS_SHOWN]


def _prefill(request: HttpRequest, partner: Partner) -> dict[str, str]:
    """Values for an unsubmitted form from the query string (e.g. "check again" links)."""
    country = request.GET.get("country", "").strip().upper()
    return {
        "country": country if country in SUPPORTED_COUNTRIES else partner.home_country,
        "tax_id": request.GET.get("tax_id", "")[:MAX_INPUT_LENGTH],
        "company_name": request.GET.get("company_name", "")[:COMPANY_NAME_MAX_LENGTH],
    }


def _request_query(decision: Decision, company_name: str) -> str:
    """Query string that carries the checked company to the request forms."""
    params = {"country": decision.country, "tax_id": decision.tax_id}
    if company_name:
        params["company_name"] = company_name
    return urlencode(params)


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    partner = _partner_of(request.user)
    decision = None
    if request.method == "POST":
        form = CheckForm(request.POST, home_country=partner.home_country)
        values = {
            "country": request.POST.get("country", "").strip().upper(),
            "tax_id": request.POST.get("tax_id", "")[:MAX_INPUT_LENGTH],
            "company_name": request.POST.get("company_name", "")[:COMPANY_NAME_MAX_LENGTH],
        }
        if form.is_valid():
            values["country"] = form.cleaned_data["country"]
            decision = check_company(
                user=request.user,
                country=form.cleaned_data["country"],
                raw_tax_id=form.cleaned_data["tax_id"],
                company_name=form.cleaned_data["company_name"],
            )
    else:
        values = _prefill(request, partner)
        form = CheckForm(initial=values, home_country=partner.home_country)

    context = {
        "form": form,
        "values": values,
        "partner": partner,
        "decision": decision,
        "recent_checks": _recent_checks(user=request.user, partner=partner),
    }
    if decision is not None:
        context["result_label"] = EligibilityResult(decision.result).label
        context["country_name"] = SUPPORTED_COUNTRIES.get(decision.country, decision.country)
        context["error_field"] = _error_field(decision)
        context["request_query"] = _request_query(decision, form.cleaned_data["company_name"])
    return render(request, "eligibility/check.html", context)


def _error_field(decision: Decision) -> str:
    """The form field an invalid result is about, so the page can tie the message to it."""
    if decision.result != EligibilityResult.INVALID:
        return ""
    return "country" if decision.reason in COUNTRY_REASONS else "tax_id"
