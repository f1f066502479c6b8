"""Real-browser journeys for signing in."""

import re

import pytest
from django.core import mail

from accounts.services import invite_user
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invited_partner_sets_a_password_signs_in_and_sees_partner_name(
    page, partner, settings, live_server
):
    settings.SITE_URL = live_server.url
    invite_user(email="nina@acme.example", partner=partner, full_name="Nina New")
    (welcome,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", welcome.body).group(0)

    page.goto(link)
    page.get_by_label(re.compile(r"^New Password:?$")).fill("a-fresh-password-77")
    page.get_by_label("New Password (again)").fill("a-fresh-password-77")
    page.get_by_role("button", name=re.compile("change password", re.I)).click()

    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("nina@acme.example")
    page.get_by_label("Password").fill("a-fresh-password-77")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-partner-name]").inner_text() == "Acme Resellers"


def test_token_user_signs_in_with_a_code_from_the_email(page, partner):
    user = UserFactory(email="tina@acme.example", partner=partner, login_mode="token")
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Send me a sign-in code").click()
    page.get_by_label(re.compile("e-?mail", re.I)).fill(user.email)
    page.get_by_role("button", name=re.compile("code", re.I)).click()
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", mail.outbox[-1].body).group(1)
    page.get_by_label(re.compile("code", re.I)).fill(code)
    page.get_by_role("button", name=re.compile("sign in|confirm", re.I)).click()
    page.locator("[data-partner-name]").wait_for()
    assert page.locator("[data-partner-name]").inner_text() == "Acme Resellers"


def test_login_form_is_keyboard_usable(page, alice):
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.locator("#id_login").focus()
    page.keyboard.type(alice.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.locator("[data-partner-name]").wait_for()
    assert page.locator("[data-partner-name]").inner_text() == "Acme Resellers"
