"""In a real browser: the Tax ID field names the chosen country's document."""

import pytest

from tests.browser_helpers import sign_in, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_label_and_hint_follow_the_country(page, alice):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    page.goto("/eligibility/check/")
    label = page.locator("label[for=id_tax_id]")
    hint = page.locator("#tax_id-help")
    assert label.inner_text() == "Tax ID (CNPJ)"
    page.locator("#id_country").select_option("MX")
    assert label.inner_text() == "Tax ID (RFC)"
    assert "Type the RFC as it is written" in hint.inner_text()
    page.locator("#id_country").select_option("AR")
    assert label.inner_text() == "Tax ID (CUIT)"
    page.get_by_label("Tax ID (CUIT)").fill("20-12345678-9")  # the label still names the field
    assert not csp_errors
