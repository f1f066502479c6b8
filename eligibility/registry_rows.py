"""A row of the company registry file: its columns and the rules that make it valid.

Shared by `manage.py import_companies` and the admin's import jobs (both run
eligibility.importer), so both accept and refuse the same rows with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from django.utils.translation import gettext as _

from accounts.models import BusinessModel, Partner
from eligibility.models import Company, Product
from eligibility.taxid import TaxIdResult, validate_tax_id

COLUMNS = ("country", "tax_id", "legal_name", "status", "products", "paid_by")
PAID_BY_CLIENT = "client"
PRODUCT_SEPARATOR = "|"
LEGAL_NAME_MAX_LENGTH = Company._meta.get_field("legal_name").max_length or 255
_STATUSES = frozenset(Company.Status.values)

Errors = dict[str, list[str]]  # column -> messages


def missing_columns_message(missing: list[str]) -> str:
    return _("The header misses the columns %(missing)s; expected %(expected)s.") % {
        "missing": ", ".join(missing),
        "expected": ",".join(COLUMNS),
    }


class RowInvalid(Exception):
    """One row breaks a rule; `errors` maps a column to its messages."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(" ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


class CompanyRow(NamedTuple):
    """A validated row: what the registry must say about one company.

    A named tuple, not a dataclass: one is made for every row of files of a million rows.
    """

    line: int
    country: str
    tax_id: str  # compact
    legal_name: str
    status: str
    product_ids: frozenset[int]
    paid_by_partner_id: int | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.country, self.tax_id)


@dataclass
class Catalog:
    """Product codes and partner names a file may mention, loaded once per import."""

    product_ids: dict[str, int]
    partner_ids: dict[str, int]

    @classmethod
    def load(cls) -> Catalog:
        return cls(
            product_ids={
                code.casefold(): pk for pk, code in Product.objects.values_list("pk", "code")
            },
            partner_ids={
                name.casefold(): pk for pk, name in Partner.objects.values_list("pk", "name")
            },
        )


def parse_row(row: Mapping[str, str], *, catalog: Catalog, line: int) -> CompanyRow:
    """Validate one row (values as read from the file); raise RowInvalid with every problem."""
    # Written for speed: it runs for every row of files of a million rows.
    get = row.get
    country, tax_id = get("country", "").strip(), get("tax_id", "").strip()
    legal_name, status = get("legal_name", "").strip(), get("status", "").strip()
    products, paid_by = get("products", "").strip(), get("paid_by", "").strip()
    if "\x00" in "".join(row.values()):
        # Text columns cannot hold NUL characters; they only come from binary data.
        raise RowInvalid({"row": [_("The row holds binary data (a NUL character).")]})
    errors: Errors = {}
    validation = _tax_id(country, tax_id, errors)
    legal_name = _legal_name(legal_name, errors)
    status = _status(status, errors)
    codes = [code.strip() for code in products.split(PRODUCT_SEPARATOR)] if products else []
    codes = [code for code in codes if code]
    product_ids = _product_ids(codes, catalog, errors)
    paid_by_partner_id = _paid_by(paid_by, bool(codes), catalog, errors)
    if errors:
        raise RowInvalid(errors)
    return CompanyRow(
        line=line,
        country=validation.country,
        tax_id=validation.compact,
        legal_name=legal_name,
        status=status,
        product_ids=product_ids,
        paid_by_partner_id=paid_by_partner_id,
    )


def _tax_id(country: str, tax_id: str, errors: Errors) -> TaxIdResult:
    validation = validate_tax_id(country, tax_id)
    if not validation.is_valid:
        column = "country" if validation.reason_code == "unsupported_country" else "tax_id"
        errors.setdefault(column, []).append(validation.message)
    return validation


def _legal_name(legal_name: str, errors: Errors) -> str:
    if len(legal_name) > LEGAL_NAME_MAX_LENGTH:
        errors.setdefault("legal_name", []).append(
            _("The legal name is longer than %(max)d characters.") % {"max": LEGAL_NAME_MAX_LENGTH}
        )
    return legal_name


def _status(text: str, errors: Errors) -> str:
    status = text.lower()
    if status not in _STATUSES:
        errors.setdefault("status", []).append(
            _("Unknown status “%(status)s”: use prospect, client or blocked.")
            % {"status": text[:40]}
        )
    return status


def _product_ids(codes: list[str], catalog: Catalog, errors: Errors) -> frozenset[int]:
    if not codes:
        return frozenset()
    unknown = [code for code in codes if code.casefold() not in catalog.product_ids]
    if unknown:
        errors.setdefault("products", []).append(
            _("Unknown product codes: %(codes)s.")
            % {"codes": ", ".join(c[:50] for c in unknown[:5]) + (", …" if unknown[5:] else "")}
        )
    return frozenset(catalog.product_ids[code.casefold()] for code in codes if code not in unknown)


def _paid_by(paid_by: str, has_products: bool, catalog: Catalog, errors: Errors) -> int | None:
    """The paying partner's id; None when the client pays (or nobody does)."""
    if paid_by and paid_by.casefold() != PAID_BY_CLIENT:
        partner_id = catalog.partner_ids.get(paid_by.casefold())
        if partner_id is None:
            errors.setdefault("paid_by", []).append(
                _("Unknown partner “%(name)s” in paid_by: use client or a partner's name.")
                % {"name": paid_by[:100]}
            )
        return partner_id
    if not paid_by and has_products:
        errors.setdefault("paid_by", []).append(
            _("Say who pays for the products: client or a partner's name.")
        )
    return None


def subscription_business_model(paid_by_partner_id: int | None, current: str) -> str:
    """The business model a subscription gets from who pays for it.

    A partner that pays is reselling; when the client pays, a referral stays a referral and
    anything else has no model. (eligibility.sql.registry writes the same rule as SQL.)
    """
    if paid_by_partner_id is not None:
        return BusinessModel.RESELLER
    return current if current == BusinessModel.REFERRAL else ""
