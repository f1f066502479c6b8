"""Opening a request form is a logged check that says no more than the check page."""

import pytest

from eligibility.models import EligibilityCheck
from requests_app.models import RequestStatus
from tests.factories import CompanyFactory
from tests.requests_app.requests_helpers import (
    CLIENT_CNPJ,
    NEW_CNPJ,
    PROSPECT_CNPJ,
    SPARE_CNPJ,
    make_request,
)

FORMS = ["launch", "upsell", "takeover"]


def _open(client, kind, tax_id):
    return client.get(f"/requests/new/{kind}/?country=BR&tax_id={tax_id}")


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize("tax_id", [NEW_CNPJ, PROSPECT_CNPJ, CLIENT_CNPJ, "123"])
def test_opening_a_form_writes_exactly_one_check_log_line(
    alice_client, alice, client_company, prospect, kind, tax_id
):
    response = _open(alice_client, kind, tax_id)
    assert response.status_code == 200
    (line,) = EligibilityCheck.objects.all()
    assert line.user == alice and line.partner == alice.partner
    assert line.raw_input == tax_id
    assert line.source == EligibilityCheck.Source.REQUEST


@pytest.mark.parametrize("kind", FORMS)
def test_a_blocked_company_shows_no_legal_name(alice_client, kind):
    CompanyFactory(tax_id=SPARE_CNPJ, legal_name="Secret Blocked Holdings", blocked=True)
    response = _open(alice_client, kind, SPARE_CNPJ)
    body = response.content.decode()
    assert "Secret Blocked Holdings" not in body
    assert EligibilityCheck.objects.get().result == "unavailable"


@pytest.mark.parametrize("kind", FORMS)
def test_a_company_protected_by_another_partner_shows_no_legal_name(alice_client, charlie, kind):
    company = CompanyFactory(tax_id=SPARE_CNPJ, legal_name="Quiet Prospect Comercio")
    make_request(partner=charlie.partner, company=company, status=RequestStatus.SUBMITTED)
    body = _open(alice_client, kind, SPARE_CNPJ).content.decode()
    assert "Quiet Prospect Comercio" not in body
    assert charlie.partner.name not in body


def test_an_available_prospect_still_shows_its_legal_name(alice_client, prospect):
    body = _open(alice_client, "launch", PROSPECT_CNPJ).content.decode()
    assert prospect.legal_name in body


def test_a_client_form_still_shows_its_legal_name(alice_client, client_company):
    body = _open(alice_client, "upsell", CLIENT_CNPJ).content.decode()
    assert client_company.legal_name in body


def test_the_check_page_shows_no_legal_name_of_a_blocked_company(alice_client):
    CompanyFactory(tax_id=SPARE_CNPJ, legal_name="Secret Blocked Holdings", blocked=True)
    response = alice_client.post(
        "/eligibility/check/", {"country": "BR", "tax_id": SPARE_CNPJ, "company_name": ""}
    )
    assert "Secret Blocked Holdings" not in response.content.decode()
