"""Real-browser journey: a partner checks companies by Tax ID."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import sign_in
from tests.factories import (
    CompanyFactory,
    PartnerRequestFactory,
    ProductFactory,
    SubscriptionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_partner_sees_each_of_the_four_answers_with_its_next_step(page, alice, partner):
    company = CompanyFactory(tax_id="11222333000181", legal_name="Initech Ltda", client=True)
    SubscriptionFactory(company=company, product=ProductFactory(code="gym", name="Gym access"))
    ProductFactory(code="therapy", name="Therapy")
    launched = CompanyFactory(tax_id="45723174000110")
    PartnerRequestFactory(partner=partner, company=launched, reference="RH-000321")
    csp_errors = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, alice)

    page.get_by_role("link", name="Check a company").first.click()
    page.wait_for_url(re.compile(r"/eligibility/check/$"))
    assert page.get_by_label("Country").input_value() == "BR"  # the partner's home country
    page.get_by_label("Tax ID (CNPJ)", exact=True).fill("16.727.230/0001-97")
    page.get_by_label("Company name (optional)").fill("New Co")
    page.get_by_role("button", name="Check eligibility").click()

    result = page.locator("#check-result")
    expect(result).to_have_attribute("data-eligibility", "available")
    # The answer takes the focus, so keyboard and screen-reader users land on it.
    expect(result).to_be_focused()
    launch = page.locator('[data-action="launch"]')
    assert "tax_id=16727230000197" in launch.get_attribute("href")

    page.get_by_label("Tax ID (CNPJ)", exact=True).fill("11.222.333/0001-81")
    page.get_by_role("button", name="Check eligibility").click()
    expect(result).to_have_attribute("data-eligibility", "client")
    assert page.locator('[data-action="upsell"]').is_visible()
    assert page.locator('[data-action="takeover"]').is_visible()
    assert "Initech Ltda" in result.inner_text()

    # A branch (0002) of a company the partner's own open launch protects.
    page.get_by_label("Tax ID (CNPJ)", exact=True).fill("45.723.174/0002-00")
    page.get_by_role("button", name="Check eligibility").click()
    expect(result).to_have_attribute("data-eligibility", "unavailable")
    expect(page.locator("[data-action]")).to_have_count(0)
    expect(result.get_by_role("link", name="See request RH-000321")).to_have_attribute(
        "href", "/requests/RH-000321/"
    )

    page.get_by_label("Tax ID (CNPJ)", exact=True).fill("11.222.333/0001-82")
    page.get_by_role("button", name="Check eligibility").click()
    expect(result).to_have_attribute("data-eligibility", "invalid")
    expect(page.get_by_label("Tax ID (CNPJ)", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-action]")).to_have_count(0)
    assert "check digit" in result.inner_text()

    # The four checks are listed, newest first, and "Check again" refills the form.
    rows = page.locator('[data-testid="recent-checks"] tbody tr')
    expect(rows).to_have_count(4)
    rows.nth(3).get_by_role("link", name=re.compile("Check again")).click()
    expect(page.get_by_label("Tax ID (CNPJ)", exact=True)).to_have_value("16727230000197")
    expect(page.get_by_label("Company name (optional)")).to_have_value("New Co")
    expect(page.locator("#check-result")).to_have_count(0)
    assert csp_errors == []
