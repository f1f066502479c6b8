"""The countries the hub works in: ISO alpha-2 code and name, in the active language.

Partners have a home country, companies are checked per country: the list is shared by every
app, so it lives here. Which Tax ID validator serves a country is eligibility's business
(eligibility/taxid.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SUPPORTED_COUNTRIES: dict[str, StrPromise] = {
    "AR": _("Argentina"),
    "BR": _("Brazil"),
    "CL": _("Chile"),
    "CO": _("Colombia"),
    "DE": _("Germany"),
    "ES": _("Spain"),
    "GB": _("United Kingdom"),
    "IE": _("Ireland"),
    "IT": _("Italy"),
    "MX": _("Mexico"),
    "PE": _("Peru"),
    "PT": _("Portugal"),
    "US": _("United States"),
}


def country_name(code: str) -> str:
    """The country's name in the active language; an unknown code is shown as given."""
    return str(SUPPORTED_COUNTRIES.get(code, code))


def country_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs sorted by the name in the active language."""
    return list(_country_choices(get_language()))


@lru_cache(maxsize=32)
def _country_choices(language: str | None) -> tuple[tuple[str, str], ...]:
    choices = [(code, str(name)) for code, name in SUPPORTED_COUNTRIES.items()]
    return tuple(sorted(choices, key=lambda choice: choice[1].casefold()))
