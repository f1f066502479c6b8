"""Input parsing for the single eligibility check."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.countries import SUPPORTED_COUNTRIES, country_choices
from eligibility.taxid import TAX_ID_DOCUMENTS

COMPANY_NAME_MAX_LENGTH = 255


class CheckInputField(forms.CharField):
    """Any text at all: what is wrong with it is the check's answer, not a form error.

    Django refuses NUL characters in every CharField; here even those reach the check, which
    answers `invalid` and logs the attempt (the log drops the NULs).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class CheckForm(forms.Form):
    """Country, Tax ID and an optional company name.

    Whether the Tax ID is valid for the country (and whether the country is supported) is the
    Tax ID module's rule, and an empty country means the partner's home country in
    `check_company`; both are answered there (as a logged `invalid` result when wrong), not
    here. The form only keeps out a company name that cannot be stored.
    """

    country = CheckInputField(label=_("Country"), required=False)
    tax_id = CheckInputField(label=_("Tax ID"), required=False)
    company_name = forms.CharField(
        label=_("Company name (optional)"),
        required=False,
        max_length=COMPANY_NAME_MAX_LENGTH,
        help_text=_("Helps you recognise the company in your recent checks and requests."),
    )


def tax_id_label(country: str) -> str:
    """The Tax ID field's label, naming the country's document: "Tax ID (CNPJ)"."""
    document = TAX_ID_DOCUMENTS.get(country)
    if document is None:
        return gettext("Tax ID")
    return gettext("Tax ID (%(document)s)") % {"document": document}


def tax_id_hint(country: str) -> str:
    """The Tax ID field's hint, naming the country's document."""
    document = TAX_ID_DOCUMENTS.get(country)
    if document is None:
        return gettext("Type it as it is written: dots, dashes, slashes and spaces do not matter.")
    return gettext(
        "Type the %(document)s as it is written: dots, dashes, slashes and spaces do not matter."
    ) % {"document": document}


def country_options(selected: str) -> SafeString:
    """The country list's <option>s, `selected` chosen: the same few lists on every check."""
    return _country_options(get_language(), selected if selected in SUPPORTED_COUNTRIES else "")


@lru_cache(maxsize=64)
def _country_options(language: str | None, selected: str) -> SafeString:
    return format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        (
            (code, mark_safe(" selected") if code == selected else "", name)  # noqa: S308 - a constant
            for code, name in country_choices()
        ),
    )


def tax_id_wording() -> dict[str, str]:
    """JSON for the country list's data-* attributes: each country's Tax ID label and hint.

    The page's script puts them in place when the partner picks another country.
    """
    return _tax_id_wording(get_language())


@lru_cache(maxsize=8)
def _tax_id_wording(language: str | None) -> dict[str, str]:
    labels = {code: tax_id_label(code) for code in SUPPORTED_COUNTRIES}
    hints = {code: tax_id_hint(code) for code in SUPPORTED_COUNTRIES}
    return {"labels": json.dumps(labels), "hints": json.dumps(hints)}
