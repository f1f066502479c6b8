"""In a real browser: the switcher, a choice that follows the user, times in their zone."""

import os
from datetime import UTC, datetime

import pytest
from django.conf import settings

from tests.browser_helpers import sign_in, watch_csp
from tests.factories import EligibilityCheckFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_switcher_changes_the_language_and_the_account_keeps_it(
    page, alice, _playwright_browser, live_server
):
    alice.time_zone = "America/Sao_Paulo"
    alice.save()
    EligibilityCheckFactory(
        user=alice, partner=alice.partner, created_at=datetime(2026, 3, 10, 19, 15, tzinfo=UTC)
    )
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("March 10, 2026, 4:15 p.m.").count() == 1  # São Paulo, not UTC

    page.locator("#language-select").select_option("es")
    page.get_by_role("button", name="Change language").click()
    page.get_by_role("link", name="Consultar una empresa").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_text("10/03/2026 16:15").count() == 1
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    assert not csp_errors

    # Another browser, no cookies: signed out it speaks the browser's language (English)...
    context = _playwright_browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        fresh = context.new_page()
        fresh.set_default_timeout(15_000)
        sign_in(fresh, alice)
        # ...and once signed in, the language saved on the account.
        assert fresh.locator("html").get_attribute("lang") == "es"
        assert fresh.get_by_role("link", name="Consultar una empresa").first.is_visible()
        assert fresh.get_by_text("10/03/2026 16:15").count() == 1
        artifacts = os.path.join(settings.BASE_DIR, "test-artifacts")
        os.makedirs(artifacts, exist_ok=True)
        fresh.screenshot(path=os.path.join(artifacts, "language_kept.png"), full_page=True)
    finally:
        context.close()


def test_a_visitor_switches_the_sign_in_page_to_portuguese(page, db):
    page.goto("/accounts/login/")
    page.locator("#language-select").select_option("pt-br")
    page.get_by_role("button", name="Change language").click()
    page.get_by_role("heading", name="Entrar no Reseller Hub").wait_for()
    assert page.locator("html").get_attribute("lang") == "pt-br"
    assert page.url.endswith("/accounts/login/")
