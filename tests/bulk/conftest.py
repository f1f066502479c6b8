"""Fixtures for the bulk-check tests: a small registry with one company of each kind."""

import pytest

from tests.bulk.bulk_helpers import cnpj
from tests.factories import (
    CompanyFactory,
    PartnerRequestFactory,
    ProductFactory,
    SubscriptionFactory,
)

CLIENT = cnpj(11_111_111)
CLIENT_BRANCH = cnpj(11_111_111, "0002")
BLOCKED = cnpj(22_222_222)
PROSPECT = cnpj(33_333_333)
NEW_COMPANY = cnpj(44_444_444)
PROTECTED = cnpj(55_555_555)


@pytest.fixture
def registry(db):
    """A client (with a product), a blocked company and a prospect, all in Brazil."""
    product = ProductFactory(code="standard", name="Wellhub Standard")
    ProductFactory(code="family", name="Family Members")
    SubscriptionFactory(company=CompanyFactory(tax_id=CLIENT, client=True), product=product)
    CompanyFactory(tax_id=BLOCKED, blocked=True)
    CompanyFactory(tax_id=PROSPECT)
    return {"client": CLIENT, "blocked": BLOCKED, "prospect": PROSPECT}


@pytest.fixture
def protected_by_other(registry, charlie):
    """An open launch request of another partner protects PROTECTED."""
    return PartnerRequestFactory(
        partner=charlie.partner,
        created_by=charlie,
        company=CompanyFactory(tax_id=PROTECTED),
        reference="RH-999999",
    )
