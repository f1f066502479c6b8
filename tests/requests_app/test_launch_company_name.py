"""The launch form's company name: pre-filled when known, required when not, shown everywhere."""

import re

from requests_app.models import PartnerRequest
from tests.factories import CompanyFactory
from tests.requests_app.requests_helpers import NEW_CNPJ, PROSPECT_CNPJ, launch_post

URL = "/requests/new/launch/"


def _name_input(html):
    match = re.search(r'<input[^>]*name="company_name"[^>]*>', html)
    assert match, "the form has a company_name field"
    return match.group(0)


def test_the_name_typed_on_the_check_is_pre_filled(alice_client):
    html = alice_client.get(
        URL, {"country": "BR", "tax_id": NEW_CNPJ, "company_name": "Typed Co"}
    ).content.decode()
    field = _name_input(html)
    assert 'value="Typed Co"' in field and 'type="text"' in field


def test_the_registry_name_is_pre_filled_when_nothing_was_typed(alice_client):
    CompanyFactory(tax_id=PROSPECT_CNPJ, legal_name="Registry Name SA")
    html = alice_client.get(URL, {"country": "BR", "tax_id": PROSPECT_CNPJ}).content.decode()
    assert 'value="Registry Name SA"' in _name_input(html)


def test_a_new_company_without_a_name_is_refused_on_the_field(alice_client, mailoutbox):
    response = alice_client.post(URL, launch_post(company_name="   "))
    assert response.status_code == 200
    assert "Enter the company&#x27;s name." in response.content.decode()
    assert not PartnerRequest.objects.exists()
    assert mailoutbox == []


def test_the_name_is_kept_and_shown_on_the_list_page_and_the_aes_email(
    alice_client, on_commit, mailoutbox, ae
):
    with on_commit():
        response = alice_client.post(URL, launch_post(company_name="Brand New Ltda"))
    launch = PartnerRequest.objects.get()
    assert response.status_code == 302
    assert launch.company_name == "Brand New Ltda"
    assert "Brand New Ltda" in alice_client.get("/requests/").content.decode()
    assert "Brand New Ltda" in alice_client.get(launch.get_absolute_url()).content.decode()
    subjects = [mail.subject for mail in mailoutbox]
    assert any("Brand New Ltda" in subject for subject in subjects), subjects
    assert not any("— —" in subject for subject in subjects)
