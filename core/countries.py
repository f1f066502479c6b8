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


# The language a partner's users get by default, from the partner's home country.
_COUNTRY_LANGUAGES: dict[str, str] = {
    "BR": "pt-br",
    "AR": "es",
    "CL": "es",
    "CO": "es",
    "MX": "es",
    "PE": "es",
    "ES": "es",
}

# The time zone a partner's users get by default (a country's main business zone).
_COUNTRY_TIME_ZONES: dict[str, str] = {
    "AR": "America/Argentina/Buenos_Aires",
    "BR": "America/Sao_Paulo",
    "CL": "America/Santiago",
    "CO": "America/Bogota",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "MX": "America/Mexico_City",
    "PE": "America/Lima",
    "PT": "Europe/Lisbon",
    "US": "America/New_York",
}


def default_language(country: str) -> str:
    """The language for users of a partner at home in `country` (English elsewhere)."""
    return _COUNTRY_LANGUAGES.get(country, "en")


def default_time_zone(country: str) -> str:
    """The time zone for users of a partner at home in `country` (UTC for an unknown one)."""
    return _COUNTRY_TIME_ZONES.get(country, "UTC")
