"""Two partners launching one company at the same moment: the database lets only one through."""

import threading

import pytest
from django.db import connection

from eligibility.models import Company
from requests_app import launch as launch_module
from requests_app.launch import create_launch
from requests_app.models import PartnerRequest
from requests_app.shared import RequestRefused
from tests.factories import CompanyFactory, PartnerFactory, UserFactory
from tests.requests_app.requests_helpers import NEW_CNPJ

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("in_registry", [True, False])
def test_simultaneous_launches_for_one_company_let_exactly_one_through(
    uses_real_services, monkeypatch, in_registry
):
    if in_registry:
        CompanyFactory(tax_id=NEW_CNPJ, legal_name="Contested Ltda")
    users = [UserFactory(partner=PartnerFactory()) for _ in range(2)]
    barrier = threading.Barrier(len(users), timeout=20)
    original_choose_ae = launch_module.choose_ae

    def choose_ae_then_wait(**kwargs):
        # Both threads have passed the eligibility check; release them into the insert together.
        ae = original_choose_ae(**kwargs)
        barrier.wait()
        return ae

    monkeypatch.setattr(launch_module, "choose_ae", choose_ae_then_wait)
    outcomes: dict[int, object] = {}

    def submit(user):
        try:
            outcomes[user.pk] = create_launch(
                user=user,
                country="BR",
                tax_id=NEW_CNPJ,
                company_name="Contested",
                contact_name="Maria Lima",
                contact_email="maria@contested.example",
                contact_phone="+55 11 91234-5678",
                employee_count=40,
                business_model="reseller",
            )
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            outcomes[user.pk] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    created = [o for o in outcomes.values() if isinstance(o, PartnerRequest)]
    refused = [o for o in outcomes.values() if isinstance(o, RequestRefused)]
    assert len(created) == 1 and len(refused) == 1, outcomes
    assert refused[0].reason_code == "protected"
    assert PartnerRequest.objects.count() == 1
    assert Company.objects.filter(country="BR", tax_id=NEW_CNPJ).count() == 1
