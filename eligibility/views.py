"""Partner pages of the eligibility app: the single check by Tax ID."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from accounts.models import Partner, User
from eligibility.forms import COMPANY_NAME_MAX_LENGTH, CheckForm
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.services import Decision, check_company, country_name, format_tax_id
from eligibility.taxid import MAX_INPUT_LENGTH, SUPPORTED_COUNTRIES

RECENT_CHECKS_SHOWN = 10

# Invalid results that are about the country rather than the Tax ID itself.
COUNTRY_REASONS = frozenset({"unsupported_country"})


def _recent_checks(*, user: User, partner: Partner) -> list[EligibilityCheck]:
    """The user's own latest single checks (not a colleague's: each sees what they typed)."""
    checks = list(
        EligibilityCheck.objects.filter(
            user=user, partner=partner, source=EligibilityCheck.Source.SINGLE
        ).order_by("-created_at", "-pk")[:RECENT_CHECKS_SHOWN]
    )
    labels = {value: str(label) for value, label in EligibilityResult.choices}
    for item in checks:
        item.shown_tax_id = format_tax_id(item.country, item.tax_id) or item.raw_input
        # What get_result_display gives, without rebuilding the choices for every row.
        item.result_label = labels.get(item.result, item.result)
    return checks


def _shown_values(data, partner: Partner) -> dict[str, str]:
    """What the form shows: the input, cut to what a field can hold (never a huge echo)."""
    country = str(data.get("country", "")).strip().upper()
    return {
        "country": country or partner.home_country,
        "tax_id": str(data.get("tax_id", ""))[:MAX_INPUT_LENGTH],
        "company_name": str(data.get("company_name", ""))[:COMPANY_NAME_MAX_LENGTH],
    }


def _request_query(decision: Decision, company_name: str) -> str:
    """Query string that carries the checked company to the request forms."""
    params = {"country": decision.country, "tax_id": decision.tax_id}
    # What the partner typed, else the registry's name of the company (e.g. a client's).
    name = company_name or (decision.company.legal_name if decision.company else "")
    if name:
        params["company_name"] = name
    return urlencode(params)


def _error_field(decision: Decision) -> str:
    """The form field an invalid result is about, so the page can tie the message to it."""
    if decision.result != EligibilityResult.INVALID:
        return ""
    return "country" if decision.reason in COUNTRY_REASONS else "tax_id"


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    partner = request.user.active_partner
    if partner is None:
        return render(request, "eligibility/partners_only.html", status=403)
    decision = None
    if request.method == "POST":
        form = CheckForm(request.POST)
        values = _shown_values(request.POST, partner)
        if form.is_valid():
            decision = check_company(
                user=request.user,
                country=form.cleaned_data["country"],
                raw_tax_id=form.cleaned_data["tax_id"],
                company_name=form.cleaned_data["company_name"],
            )
    else:
        # A "check again" link prefills the form; it never runs a check by itself.
        values = _shown_values(request.GET, partner)
        if values["country"] not in SUPPORTED_COUNTRIES:
            values["country"] = partner.home_country
        form = CheckForm(initial=values)

    context = {
        "form": form,
        "values": values,
        "partner": partner,
        "decision": decision,
        "recent_checks": _recent_checks(user=request.user, partner=partner),
    }
    if decision is not None:
        context.update(
            result_label=EligibilityResult(decision.result).label,
            country_name=(
                country_name(decision.country)
                if decision.country in SUPPORTED_COUNTRIES
                else gettext("Unknown country")
            ),
            shown_tax_id=format_tax_id(decision.country, decision.tax_id) or values["tax_id"],
            error_field=_error_field(decision),
            request_query=_request_query(decision, form.cleaned_data["company_name"]),
        )
    return render(request, "eligibility/check.html", context)
