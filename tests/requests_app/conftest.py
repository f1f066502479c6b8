"""Fixtures for the requests tests: a registry, AEs and ready-made requests."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AE_GROUP
from tests.factories import CompanyFactory, ProductFactory, StaffFactory, SubscriptionFactory
from tests.requests_app.requests_helpers import CLIENT_CNPJ, PROSPECT_CNPJ


@pytest.fixture
def products(db):
    return {
        code: ProductFactory(code=code, name=name)
        for code, name in [
            ("standard", "Wellhub Standard"),
            ("family", "Family Members"),
            ("plus", "Wellhub+"),
        ]
    }


@pytest.fixture
def client_company(products, other_partner):
    """A client that pays Standard itself and gets Family through another partner."""
    company = CompanyFactory(tax_id=CLIENT_CNPJ, legal_name="Academia Paulista Ltda", client=True)
    SubscriptionFactory(company=company, product=products["standard"])
    SubscriptionFactory(company=company, product=products["family"], paid_by_partner=other_partner)
    return company


@pytest.fixture
def prospect(db):
    return CompanyFactory(tax_id=PROSPECT_CNPJ, legal_name="Logistica Rio Claro Ltda")


@pytest.fixture
def ae_group(db):
    return Group.objects.get_or_create(name=AE_GROUP)[0]


@pytest.fixture
def ae(ae_group):
    user = StaffFactory(email="ae1@wellhub.example", full_name="Alex Account")
    user.groups.add(ae_group)
    return user


@pytest.fixture
def ae2(ae_group):
    user = StaffFactory(email="ae2@wellhub.example", full_name="Bruna Account")
    user.groups.add(ae_group)
    return user
