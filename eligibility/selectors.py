"""Reads of the registry and the check log, as plain values, in a fixed number of queries.

The decision of a whole bulk chunk costs the same queries as a single check: every read here
takes a batch and answers with one query, whatever the batch's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from django.db.models import QuerySet

from accounts.models import Partner
from eligibility.decision import ClientOffers, Holding, ProductLine, RegistryLine
from eligibility.models import EligibilityCheck, Product
from eligibility.sql import checklog

Family = tuple[str, str]  # (country, company root)


def registry_families(
    roots_by_country: Mapping[str, Collection[str]],
) -> dict[Family, list[RegistryLine]]:
    """The registry lines of these families (a company with its head office and branches), by
    (country, root), each family in registry order (its first client answers for it)."""
    families: dict[Family, list[RegistryLine]] = defaultdict(list)
    for pk, country, tax_id, root, legal_name, status in checklog.registry_rows(roots_by_country):
        families[(country, root)].append(RegistryLine(pk, country, tax_id, legal_name, status))
    return families


def client_offers(company_ids: Collection[int]) -> ClientOffers:
    """What these client companies have (and who pays for it), and the active products."""
    products: dict[int, ProductLine] = {}
    active: list[ProductLine] = []
    rows = Product.objects.order_by("name").values_list("id", "code", "name", "is_active")
    for pk, code, name, is_active in rows:
        products[pk] = ProductLine(pk, code, name)
        if is_active:
            active.append(products[pk])
    holdings: dict[int, list[Holding]] = defaultdict(list)
    for company_id, product_id, paid_by in checklog.subscription_rows(company_ids):
        holdings[company_id].append(Holding(products[product_id], paid_by))
    return ClientOffers(holdings=holdings, active_products=active)


def recent_checks(partner: Partner) -> QuerySet[EligibilityCheck]:
    """The partner's latest single checks and request checks, newest first.

    Bulk rows are left out: they have their own panel, and thousands of them would push single
    checks out of view.
    """
    return (
        EligibilityCheck.objects.filter(partner=partner)
        .exclude(source=EligibilityCheck.Source.BULK)
        .only("country", "raw_input", "tax_id", "company_name", "result", "created_at")
        .order_by("-created_at", "-pk")
    )
