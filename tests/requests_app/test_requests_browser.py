"""Real-browser journeys: from a check result to a launch, an upsell and a payment takeover."""

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from eligibility.models import Company
from tests.browser_helpers import sign_in, watch_csp
from tests.requests_app.requests_helpers import CLIENT_CNPJ, NEW_CNPJ

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORMS = {"launch": "new/launch", "upsell": "new/upsell", "takeover": "new/takeover"}


def open_request_form(page, *, tax_id: str, action: str) -> None:
    """Check the company and follow the result's button (or go straight to the form)."""
    response = page.goto("/eligibility/check/")
    if (
        response is not None
        and response.ok
        and page.get_by_label("Tax ID (CNPJ)", exact=True).count()
    ):
        page.get_by_label("Tax ID (CNPJ)", exact=True).fill(tax_id)
        page.get_by_role("button", name="Check eligibility").click()
        page.locator(f'[data-action="{action}"]').click()
    else:
        page.goto(f"/requests/{FORMS[action]}/?" + urlencode({"country": "BR", "tax_id": tax_id}))
    page.wait_for_url(re.compile(rf"/requests/{FORMS[action]}/"))


def test_check_then_launch_then_the_request_page(page, alice, ae):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_request_form(page, tax_id="16.727.230/0001-97", action="launch")
    expect(page.locator('[data-testid="request-company"]')).to_contain_text("16.727.230/0001-97")

    page.get_by_label("Company name").fill("New Co Ltda")  # a new company: nothing to pre-fill
    page.get_by_label("Contact name").fill("Maria Lima")
    page.get_by_label("Contact e-mail").fill("maria@newco.example")
    page.get_by_label("Contact phone").fill("+55 11 91234-5678")
    page.get_by_label("Number of employees").fill("0")
    page.get_by_role("button", name="Send launch request").click()
    expect(page.locator("#id_employee_count_error")).to_contain_text("at least 1")

    page.get_by_label("Number of employees").fill("250")
    page.get_by_role("button", name="Send launch request").click()
    article = page.locator("[data-reference]").first
    expect(article).to_have_attribute("data-status", "submitted")
    reference = article.get_attribute("data-reference")
    assert re.fullmatch(r"RH-\d{6}", reference)
    expect(page.locator('[data-testid="assigned-ae"]')).to_have_text("Alex Account")
    expect(page.locator('[data-testid="request-history"] li')).to_have_count(1)

    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.locator(f'tr[data-reference="{reference}"]')).to_be_visible()
    assert Company.objects.filter(tax_id=NEW_CNPJ).exists()
    assert csp_errors == []


def test_check_then_upsell(page, alice, client_company):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_request_form(page, tax_id=CLIENT_CNPJ, action="upsell")
    page.get_by_label("Wellhub+").check()
    page.get_by_label("Business model").select_option("referral")
    page.get_by_role("button", name="Send request").click()
    article = page.locator("[data-reference]").first
    expect(article).to_have_attribute("data-status", "submitted")
    expect(article).to_have_attribute("data-kind", "upsell")
    expect(page.locator('[data-product="plus"]')).to_be_visible()
    assert csp_errors == []


def test_check_then_takeover_shows_the_answer_date(page, alice, client_company):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_request_form(page, tax_id=CLIENT_CNPJ, action="takeover")
    # Dates read in the language's one date format; the machine-readable date is compared.
    promised = page.locator('[data-testid="due-preview"]').get_attribute("data-due")
    page.get_by_label("Wellhub Standard").check()
    page.get_by_role("button", name="Send request").click()
    article = page.locator("[data-reference]").first
    expect(article).to_have_attribute("data-status", "submitted")
    due = article.get_attribute("data-due")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", due)
    assert due == promised
    expect(page.locator('[data-testid="due-date"] time')).to_have_attribute("datetime", due)
    assert csp_errors == []
