"""Real-browser journeys on the check page answered in place (htmx)."""

import re

import pytest
from django.conf import settings
from django.utils.module_loading import import_string
from playwright.sync_api import expect

from eligibility.models import EligibilityCheck
from tests.browser_helpers import sign_in, watch_csp
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/eligibility/check/"
CNPJ = "16.727.230/0001-97"


def open_check_page(page):
    page.goto(URL)
    # Set on this document only: a reload (or a page drawn again) would lose it.
    page.evaluate("window.__sameDocument = true")


# The label names the chosen country's document: "Tax ID (CNPJ)", "Tax ID (RFC)", …
TAX_ID_LABEL = re.compile(r"^Tax ID \(")


def still_same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def check(page, tax_id, company_name=""):
    page.get_by_label(TAX_ID_LABEL).fill(tax_id)
    page.get_by_label("Company name (optional)").fill(company_name)
    page.get_by_role("button", name="Check eligibility").click()


def test_eleven_checks_in_place_keep_the_ten_newest_first(page, alice):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_check_page(page)

    rows = page.locator("#recent-checks-rows tr")
    empty = page.locator("#recent-checks-empty")
    table = page.locator('[data-testid="recent-checks"]')
    result = page.locator("#check-result")
    expect(empty).to_be_visible()
    expect(table).to_be_hidden()
    expect(rows).to_have_count(0)

    for n in range(11):
        # Valid and invalid Tax IDs in turn: every answer adds its line.
        check(page, CNPJ if n % 2 == 0 else f"bad-{n:02d}", company_name=f"Company {n:02d}")
        expect(rows.first).to_contain_text(f"Company {n:02d}")
        expect(result).to_have_attribute(
            "data-eligibility", "available" if n % 2 == 0 else "invalid"
        )
        # The answer takes the focus after each check, not only after the first one.
        expect(result).to_be_focused()
        expect(rows).to_have_count(min(n + 1, 10))
        expect(empty).to_be_hidden()
        expect(table).to_be_visible()

    names = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(10)]
    assert names == [f"Company {n:02d}" for n in range(10, 0, -1)]
    assert still_same_document(page)
    assert EligibilityCheck.objects.filter(user=alice).count() == 11
    assert csp_errors == []


def test_invalid_answer_takes_the_focus_and_marks_the_field(page, alice):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_check_page(page)

    check(page, "16.727.230/0001-98")
    result = page.locator("#check-result")
    expect(result).to_have_attribute("data-eligibility", "invalid")
    expect(result).to_be_focused()
    tax_id = page.get_by_label(TAX_ID_LABEL)
    expect(tax_id).to_have_attribute("aria-invalid", "true")
    expect(tax_id).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#tax_id-answer")).to_have_text("The check digit is wrong.")
    expect(page.locator("#tax_id-answer")).to_be_visible()

    check(page, CNPJ)
    expect(result).to_have_attribute("data-eligibility", "available")
    expect(result).to_be_focused()
    expect(tax_id).not_to_have_attribute("aria-invalid", "true")
    expect(tax_id).to_have_attribute("aria-describedby", "tax_id-help")
    expect(page.locator("#tax_id-answer")).to_be_hidden()

    # An answer about the country marks the country list instead.
    page.get_by_label("Country").select_option("MX")
    check(page, CNPJ)
    expect(result).to_have_attribute("data-eligibility", "invalid")
    expect(page.get_by_label("Country")).not_to_have_attribute("aria-invalid", "true")
    expect(tax_id).to_have_attribute("aria-invalid", "true")
    assert still_same_document(page)
    assert csp_errors == []


def test_check_after_the_session_ended_takes_the_whole_window_to_sign_in(page, alice):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_check_page(page)
    expect(page.locator("#check-panel")).to_be_visible()

    # Sessions live in the database behind the cache: end them in both, as a sign-out does.
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    for key in store.get_model_class().objects.values_list("session_key", flat=True):
        store(session_key=key).delete()

    check(page, CNPJ, company_name="After Hours")
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/eligibility/check/$"))
    expect(page.get_by_label("Password")).to_be_visible()
    # The sign-in page is the whole window, not a form drawn inside the check panel.
    expect(page.locator("#check-panel")).to_have_count(0)
    expect(page.locator("form[data-testid='check-form']")).to_have_count(0)
    assert not still_same_document(page)
    assert not EligibilityCheck.objects.exists()

    # Signing in again comes back to the check page.
    page.get_by_label("E-mail").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/eligibility/check/$"))
    expect(page.locator("#check-panel")).to_be_visible()
    assert csp_errors == []


def test_check_after_the_partner_was_paused_shows_the_refusal_as_the_page(page, alice, partner):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_check_page(page)

    partner.is_active = False
    partner.save()
    check(page, CNPJ)

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Eligibility checks are for partner users")
    expect(heading).to_have_count(1)  # the refusal replaced the page, not the panel inside it
    expect(page.locator("#check-panel")).to_have_count(0)
    assert not EligibilityCheck.objects.exists()
    assert csp_errors == []


def test_a_check_that_cannot_reach_the_server_says_so_and_the_next_one_works(page, alice):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    open_check_page(page)
    offline = page.locator("#check-offline")
    expect(offline).to_be_hidden()

    page.route("**/eligibility/check/", lambda route: route.abort("internetdisconnected"))
    check(page, CNPJ)
    expect(offline).to_be_visible()
    expect(page.locator("#check-result")).to_have_count(0)
    expect(page.get_by_role("button", name="Check eligibility")).to_be_enabled()

    page.unroute("**/eligibility/check/")
    check(page, CNPJ)
    expect(page.locator("#check-result")).to_have_attribute("data-eligibility", "available")
    expect(offline).to_be_hidden()
    assert still_same_document(page)
    assert EligibilityCheck.objects.count() == 1
    assert csp_errors == []
