"""Forgot password: one answer for known, unknown and inactive addresses."""

import re

import pytest

from accounts.models import User

RESET = "/accounts/password/reset/"


def _post(client, email):
    return client.post(RESET, {"email": email})


@pytest.mark.parametrize("who", ["known", "unknown", "inactive"])
def test_reset_answers_the_same_for_everyone(client, alice, mailoutbox, who):
    email = {"known": alice.email, "unknown": "nobody@nowhere.example", "inactive": alice.email}[
        who
    ]
    if who == "inactive":
        alice.is_active = False
        alice.deactivation_reason = User.DeactivationReason.BLOCKED
        alice.save()
    response = _post(client, email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [email]


def test_known_address_gets_a_working_reset_link(client, alice, mailoutbox):
    _post(client, alice.email)
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mailoutbox[0].body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    response = client.get(path, follow=True)
    action = response.redirect_chain[-1][0] if response.redirect_chain else path
    client.post(action, {"password1": "a-brand-new-pass-42", "password2": "a-brand-new-pass-42"})
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-pass-42")


@pytest.mark.parametrize("who", ["unknown", "inactive"])
def test_unknown_or_inactive_address_is_told_to_contact_support_not_to_sign_up(
    client, alice, mailoutbox, settings, who
):
    email = alice.email if who == "inactive" else "ghost@nowhere.example"
    if who == "inactive":
        alice.is_active = False
        alice.save()
    _post(client, email)
    body = mailoutbox[0].body
    assert settings.SUPPORT_EMAIL in body
    assert "signup" not in body and "sign up" not in body.lower()
    assert "/accounts/password/reset/key/" not in body


def test_malformed_address_gets_a_form_error_and_no_mail(client, db, mailoutbox):
    response = _post(client, "not-an-address")
    assert response.status_code == 200
    assert "valid email" in response.content.decode().lower()
    assert mailoutbox == []
