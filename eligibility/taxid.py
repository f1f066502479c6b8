"""Validate a company Tax ID for a supported country with python-stdnum."""

from __future__ import annotations

import importlib
import string
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import mul
from types import ModuleType
from typing import cast

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidLength

from core.countries import SUPPORTED_COUNTRIES, country_name

MAX_INPUT_LENGTH = 64

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

# What each country calls a company's Tax ID: the check form names it in its label and hint.
TAX_ID_DOCUMENTS: dict[str, str] = {
    "AR": "CUIT",
    "BR": "CNPJ",
    "CL": "RUT",
    "CO": "NIT",
    "DE": "USt-IdNr.",
    "ES": "NIF/CIF",
    "GB": "VAT",
    "IE": "VAT",
    "IT": "P.IVA",
    "MX": "RFC",
    "PE": "RUC",
    "PT": "NIF",
    "US": "EIN",
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


def cnpj_root(compact: str) -> str:
    """Return the first 8 characters of a Brazilian CNPJ: shared by all its branches."""
    return _strip_formatting(compact).upper()[:8]


def _is_formatting(char: str) -> bool:
    """Spaces, dashes, dots, slashes, commas and invisible marks: never part of a Tax ID."""
    return char.isspace() or char in _SEPARATORS or unicodedata.category(char) in ("Pd", "Cf")


# The same rule for ASCII text, as a table for str.translate (NFKC leaves ASCII unchanged).
_ASCII_FORMATTING = {code: None for code in range(128) if _is_formatting(chr(code))}


def _strip_formatting(raw: str) -> str:
    """NFKC-normalise and drop spaces, dashes, dots, slashes, commas and invisible marks."""
    if raw.isascii():  # what nearly every input is: one C-level pass instead of one per char
        return raw.translate(_ASCII_FORMATTING)
    return "".join(char for char in unicodedata.normalize("NFKC", raw) if not _is_formatting(char))


class _Rejected(Exception):
    """A rule of ours (not stdnum's) refused the number; args[0] is the reason code."""


def _invalid(country: str, reason_code: str) -> TaxIdResult:
    if len(country) > 8:  # arbitrary text in the country column: not worth keeping around
        return _invalid_in.__wrapped__(country, reason_code, None)
    return _invalid_in(country, reason_code, get_language())


@lru_cache(maxsize=1024)
def _invalid_in(country: str, reason_code: str, language: str | None) -> TaxIdResult:
    """The (immutable) invalid result, worded once per country, reason and language."""
    name = country_name(country)
    message = str(_MESSAGES[reason_code]) % {"country": name}
    return TaxIdResult(country, "", False, reason_code, message)


@cache
def validator_module(country: str) -> ModuleType:
    """The stdnum module that validates the country's Tax IDs (imported once)."""
    return importlib.import_module(_VALIDATORS[country])


_CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS_2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def _is_valid_numeric_cnpj(number: str) -> bool:
    """True only for a numeric CNPJ that stdnum accepts unchanged (its rule, written out).

    Anything else (letters, wrong length or check digits) returns False and goes through
    stdnum, which alone words the rejection.
    """
    if len(number) != 14 or not (number.isascii() and number.isdigit()):
        return False
    if number.startswith("000000000000"):
        return False
    digits = list(map(int, number))
    first = (11 - sum(map(mul, _CNPJ_WEIGHTS_1, digits))) % 11 % 10
    if first != digits[12]:
        return False
    return bool((11 - sum(map(mul, _CNPJ_WEIGHTS_2, digits))) % 11 % 10 == digits[13])


def _check(country: str, number: str) -> str:
    """Run the stdnum validator and our extra rules; return the compact form or raise.

    ``number`` is already compact: ASCII letters and digits (plus & and Ñ in Mexico), upper case.
    """
    if country == "BR" and _is_valid_numeric_cnpj(number):
        return number  # what stdnum returns for it, without its two cleaning passes
    module = validator_module(country)
    if country != "MX":
        return cast(str, module.validate(number))
    if number in MX_GENERIC_RFCS:
        raise _Rejected("generic_rfc")
    compact = module.validate(number, validate_check_digits=MX_CHECK_DIGITS)
    if len(compact) != MX_COMPANY_RFC_LENGTH:
        raise _Rejected("not_a_company")
    return cast(str, compact)


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
    if not (cleaned.isascii() and cleaned.isalnum()):  # ASCII letters and digits pass at once
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


def protection_key(country: str, compact: str) -> str:
    """What an open launch request protects: the company with all its branches (``BR:11222333``).

    The database allows one open launch per key, so two partners never hold the same company.
    """
    return f"{country}:{company_root(country, compact)}"


# --- Showing Tax IDs --------------------------------------------------------------------------


def format_tax_id(country: str, compact: str) -> str:
    """The Tax ID as people write it in that country (11.222.333/0001-81); never raises."""
    if not compact or country not in _VALIDATORS:
        return compact
    if len(compact) > MAX_INPUT_LENGTH:  # not a Tax ID: not worth keeping around
        return _formatted.__wrapped__(country, compact)
    return _formatted(country, compact)


@lru_cache(maxsize=4096)
def _formatted(country: str, compact: str) -> str:
    # Pages show the same few Tax IDs again and again (recent checks, request lists).
    try:
        return str(validator_module(country).format(compact))
    except Exception:  # noqa: BLE001 - a display nicety must never break a page
        return compact
