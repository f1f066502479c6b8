"""Partner pages of the eligibility app: the single check by Tax ID."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from accounts.models import Partner, User
from accounts.rules import NoActivePartner, acting_partner, country_or_home, partner_contact
from core.countries import SUPPORTED_COUNTRIES, country_name
from eligibility.decision import Decision, Reason
from eligibility.forms import (
    COMPANY_NAME_MAX_LENGTH,
    CheckForm,
    country_options,
    tax_id_hint,
    tax_id_label,
    tax_id_wording,
)
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.services import check_and_log
from eligibility.taxid import MAX_INPUT_LENGTH, format_tax_id

RECENT_CHECKS_SHOWN = 10

# Invalid results that are about the country rather than the Tax ID itself.
COUNTRY_REASONS = frozenset({"unsupported_country"})


# The columns a recent-checks line is made of, in RecentCheck.build's order.
_RECENT_COLUMNS = ("created_at", "country", "tax_id", "raw_input", "company_name", "result")


@dataclass(frozen=True, slots=True)
class RecentCheck:
    """One line of the recent-checks table, ready to show.

    The lines are built here rather than with template filters: the table is on every check
    page, and ten rows of date, truncate and urlencode filters cost more than the check itself.
    """

    when: str
    when_iso: str
    country: str
    shown_tax_id: str
    company_name: str
    result_label: str
    check_again_url: str

    @classmethod
    def build(
        cls,
        created_at: datetime,
        country: str,
        tax_id: str,
        raw_input: str,
        company_name: str,
        result: str,
    ) -> RecentCheck:
        created_at = localtime(created_at)
        shown_tax_id = format_tax_id(country, tax_id) or raw_input
        query = {
            "country": country,
            "tax_id": (tax_id or raw_input)[:64],
            "company_name": company_name,
        }
        return cls(
            when=date_format(created_at, "DATETIME_FORMAT"),
            when_iso=created_at.isoformat(),
            country=country,
            shown_tax_id=_shortened(shown_tax_id, 40),
            company_name=_shortened(company_name, 60),
            result_label=_result_labels(get_language()).get(result, result),
            check_again_url=f"{reverse('eligibility:check')}?{urlencode(query)}",
        )


def _shortened(text: str, limit: int) -> str:
    return Truncator(text).chars(limit) if len(text) > limit else text


@lru_cache(maxsize=32)
def _result_labels(language: str | None) -> dict[str, str]:
    return {value: str(label) for value, label in EligibilityResult.choices}


def _recent_checks(*, user: User, partner: Partner) -> list[RecentCheck]:
    """The user's own latest single checks (not a colleague's: each sees what they typed)."""
    rows = (
        EligibilityCheck.objects.filter(
            user=user, partner=partner, source=EligibilityCheck.Source.SINGLE
        )
        .order_by("-created_at", "-pk")
        .values_list(*_RECENT_COLUMNS)[:RECENT_CHECKS_SHOWN]
    )
    return [RecentCheck.build(*row) for row in rows]


def _shown_values(data: QueryDict, partner: Partner) -> dict[str, str]:
    """What the form shows: the input, cut to what a field can hold (never a huge echo)."""
    return {
        "country": country_or_home(partner, str(data.get("country", ""))),
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


# Answers that cannot be acted on: the partner's account executive is the next step.
CONTACT_REASONS = frozenset({Reason.PROTECTED, Reason.BLOCKED})


def _answer(
    decision: Decision, values: dict[str, str], company_name: str, partner: Partner
) -> dict[str, object]:
    """What the answer panel shows of a decision."""
    return {
        "contact": partner_contact(partner) if decision.reason in CONTACT_REASONS else None,
        "result_label": EligibilityResult(decision.result).label,
        "country_name": (
            country_name(decision.country)
            if decision.country in SUPPORTED_COUNTRIES
            else gettext("Unknown country")
        ),
        "shown_tax_id": format_tax_id(decision.country, decision.tax_id) or values["tax_id"],
        "error_field": _error_field(decision),
        "request_query": _request_query(decision, company_name),
    }


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails  # set by django_htmx's middleware


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HtmxHttpRequest) -> HttpResponse:
    """The check page; from the page's own script (htmx), a POST answers with the answer only.

    The new line of the recent checks goes along out of band, so the rest of the page stays as
    it was, without querying and drawing the list again; the script marks a field the answer
    is about. A refused form (a company name too long to keep) comes back whole instead.
    """
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required let only users through
    try:
        partner = acting_partner(user)
    except NoActivePartner:
        return render(request, "eligibility/partners_only.html", status=403)
    decision = logged = None
    if request.method == "POST":
        form = CheckForm(request.POST)
        values = _shown_values(request.POST, partner)
        if form.is_valid():
            decision, logged = check_and_log(
                user=user,
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
        "country_options": country_options(values["country"]),
        "tax_id_label": tax_id_label(values["country"]),
        "tax_id_hint": tax_id_hint(values["country"]),
        "tax_id_wording": tax_id_wording(),
        "partner": partner,
        "decision": decision,
    }
    if decision is not None:
        context.update(_answer(decision, values, form.cleaned_data["company_name"], partner))
    if request.htmx and request.method == "POST":
        if logged is None:  # the form itself was refused: show it again with its errors
            response = render(request, "eligibility/_check_panel.html", context)
            return reswap(retarget(response, "#check-panel"), "outerHTML")
        context["new_check"] = RecentCheck.build(
            *(getattr(logged, column) for column in _RECENT_COLUMNS)
        )
        return render(request, "eligibility/_check_answer.html", context)
    context["recent_checks"] = _recent_checks(user=user, partner=partner)
    context["recent_checks_limit"] = RECENT_CHECKS_SHOWN
    return render(request, "eligibility/check.html", context)
