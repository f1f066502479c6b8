"""Validate a company Tax ID for a supported country with python-stdnum."""

from __future__ import annotations

import importlib
import string
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidLength

MAX_INPUT_LENGTH = 64

SUPPORTED_COUNTRIES: dict[str, str] = {
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

_VALIDATORS: dict[str, str] = {
    "AR": "stdnum.ar.cuit",
    "BR": "stdnum.br.cnpj",
    "CL": "stdnum.cl.rut",
    "CO": "stdnum.co.nit",
    "DE": "stdnum.de.vat",
    "ES": "stdnum.es.nif",
    "GB": "stdnum.gb.vat",
    "IE": "stdnum.ie.vat",
    "IT": "stdnum.it.iva",
    "MX": "stdnum.mx.rfc",
    "PE": "stdnum.pe.ruc",
    "PT": "stdnum.pt.nif",
    "US": "stdnum.us.ein",
}

# Countries whose IDs are also written VAT style, with the ISO code in front.
VAT_PREFIX_COUNTRIES = frozenset({"DE", "ES", "GB", "IE", "IT", "PT"})

# stdnum does not check the RFC check digit by default: around 1.5% of RFCs in
# real use have a "wrong" one, and rejecting real companies is worse than a typo.
MX_CHECK_DIGITS = False
MX_GENERIC_RFCS = frozenset({"XAXX010101000", "XEXX010101000"})
MX_COMPANY_RFC_LENGTH = 12

_SEPARATORS = frozenset(".,/")
_ALLOWED = frozenset(string.ascii_letters + string.digits)
_EXTRA_ALLOWED = {"MX": frozenset("&Ññ")}  # RFCs derive from names and may hold & or Ñ

_MESSAGES = {
    "empty": _("Please enter the Tax ID."),
    "too_long": _("The Tax ID is too long."),
    "unsupported_country": _("We cannot check Tax IDs for this country yet."),
    "invalid_format": _("The Tax ID does not look like a valid Tax ID for %(country)s."),
    "invalid_length": _("The Tax ID has the wrong number of characters for %(country)s."),
    "invalid_checksum": _("The check digit is wrong."),
    "generic_rfc": _(
        "Generic RFCs (XAXX010101000, XEXX010101000) cannot be used. "
        "Please enter the company's own RFC."
    ),
    "not_a_company": _(
        "This RFC belongs to a person. Please enter the company's RFC (12 characters)."
    ),
}


@dataclass(frozen=True)
class TaxIdResult:
    country: str  # upper-case ISO alpha-2 as given (normalised)
    compact: str  # compact form ("" when invalid)
    is_valid: bool
    reason_code: str  # "" when valid, else a key of the messages above
    message: str  # a sentence a partner understands ("" when valid)


def country_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs sorted by the name in the active language."""
    choices = [(code, str(name)) for code, name in SUPPORTED_COUNTRIES.items()]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def cnpj_root(compact: str) -> str:
    """Return the first 8 characters of a Brazilian CNPJ: shared by all its branches."""
    return _strip_formatting(compact).upper()[:8]


def _strip_formatting(raw: str) -> str:
    """NFKC-normalise and drop spaces, dashes, dots, slashes, commas and invisible marks."""
    return "".join(
        char
        for char in unicodedata.normalize("NFKC", raw)
        if not (char.isspace() or char in _SEPARATORS or unicodedata.category(char) in ("Pd", "Cf"))
    )


class _Rejected(Exception):
    """A rule of ours (not stdnum's) refused the number; args[0] is the reason code."""


def _invalid(country: str, reason_code: str) -> TaxIdResult:
    name = str(SUPPORTED_COUNTRIES.get(country, country))
    message = str(_MESSAGES[reason_code]) % {"country": name}
    return TaxIdResult(country, "", False, reason_code, message)


def _check(country: str, number: str) -> str:
    """Run the stdnum validator and our extra rules; return the compact form or raise."""
    module = importlib.import_module(_VALIDATORS[country])
    if country != "MX":
        return module.validate(number)
    if number in MX_GENERIC_RFCS:
        raise _Rejected("generic_rfc")
    compact = module.validate(number, validate_check_digits=MX_CHECK_DIGITS)
    if len(compact) != MX_COMPANY_RFC_LENGTH:
        raise _Rejected("not_a_company")
    return compact


def validate_tax_id(country: str, raw: str) -> TaxIdResult:
    """Validate ``raw`` as a company Tax ID of ``country``; never raises.

    The country code is matched case-insensitively, ignoring surrounding whitespace.
    The input is NFKC-normalised (fullwidth digits become ASCII digits), then spaces,
    dashes, dots, slashes, commas and invisible marks are removed and letters are
    upper-cased, so formatting never changes the answer. Anything left that is not an
    ASCII letter or digit (plus & and Ñ in Mexican RFCs) makes the input invalid_format.

    VAT prefix rule: for DE, ES, GB, IE, IT and PT one leading copy of the country code
    (``DE136695976``, ``ESB58378431``) is accepted and removed, so ``compact`` never
    carries the prefix and the same company always gets the same compact form.

    Checks run in this order: too_long (on the raw text, before any work), empty,
    unsupported_country, invalid characters, then the stdnum validator.
    """
    country = country.strip().upper() if isinstance(country, str) else ""
    raw = raw if isinstance(raw, str) else ""
    if len(raw) > MAX_INPUT_LENGTH:
        return _invalid(country, "too_long")
    cleaned = _strip_formatting(raw)
    if not cleaned:
        return _invalid(country, "empty")
    if country not in SUPPORTED_COUNTRIES:
        return _invalid(country, "unsupported_country")
    allowed = _ALLOWED | _EXTRA_ALLOWED.get(country, frozenset())
    if any(char not in allowed for char in cleaned):
        return _invalid(country, "invalid_format")
    number = cleaned.upper()
    if country in VAT_PREFIX_COUNTRIES and number.startswith(country):
        number = number[len(country) :]
    try:
        compact = _check(country, number)
    except InvalidChecksum:
        return _invalid(country, "invalid_checksum")
    except InvalidLength:
        return _invalid(country, "invalid_length")
    except _Rejected as rejected:
        return _invalid(country, rejected.args[0])
    except Exception:  # noqa: BLE001 - InvalidFormat, InvalidComponent or any stdnum surprise
        return _invalid(country, "invalid_format")
    if not isinstance(compact, str) or not compact:
        return _invalid(country, "invalid_format")
    return TaxIdResult(country, compact, True, "", "")


def company_root(country: str, compact: str) -> str:
    """The key shared by a company and its branches: the CNPJ root in Brazil, else the ID."""
    return cnpj_root(compact) if country.upper() == "BR" else compact
