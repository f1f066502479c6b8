"""Fixtures for the bulk-check tests: a small registry with one company of each kind."""

import pytest

from eligibility.models import Company, Product, Subscription
from tests.bulk.bulk_helpers import cnpj

CLIENT = cnpj(11_111_111)
CLIENT_BRANCH = cnpj(11_111_111, "0002")
BLOCKED = cnpj(22_222_222)
PROSPECT = cnpj(33_333_333)
NEW_COMPANY = cnpj(44_444_444)
PROTECTED = cnpj(55_555_555)


@pytest.fixture
def registry(db):
    """A client (with a product), a blocked company and a prospect, all in Brazil."""
    product = Product.objects.create(code="standard", name="Wellhub Standard")
    Product.objects.create(code="family", name="Family Members")
    client = Company.objects.create(country="BR", tax_id=CLIENT, status="client")
    Subscription.objects.create(company=client, product=product)
    Company.objects.create(country="BR", tax_id=BLOCKED, status="blocked")
    Company.objects.create(country="BR", tax_id=PROSPECT, status="prospect")
    return {"client": CLIENT, "blocked": BLOCKED, "prospect": PROSPECT}


@pytest.fixture
def protected_by_other(registry, charlie):
    """An open launch request of another partner protects PROTECTED."""
    from requests_app.models import PartnerRequest, RequestKind, RequestStatus

    company = Company.objects.create(country="BR", tax_id=PROTECTED, status="prospect")
    return PartnerRequest.objects.create(
        kind=RequestKind.LAUNCH,
        status=RequestStatus.SUBMITTED,
        partner=charlie.partner,
        created_by=charlie,
        company=company,
        protection_key=f"BR:{PROTECTED[:8]}",
        business_model="reseller",
        reference="RH-999999",
    )
