"""The sign-in pages lead somewhere: a link to sign in after a reset, a new code on demand,
and the same hint about codes for every address that fails to sign in with a password."""

import re

from accounts.models import User
from tests.factories import UserFactory


def _reset(client, user, mailoutbox):
    client.post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mailoutbox[0].body).group(0)
    path = "/" + link.split("/", 3)[3]
    response = client.get(path, follow=True)
    action = response.redirect_chain[-1][0] if response.redirect_chain else path
    return client.post(
        action,
        {"password1": "a-brand-new-pass-42", "password2": "a-brand-new-pass-42"},
        follow=True,
    )


def test_after_a_reset_the_last_page_links_to_sign_in(client, alice, mailoutbox):
    html = _reset(client, alice, mailoutbox).content.decode()
    assert "Password changed" in html
    assert 'href="/accounts/login/" data-testid="sign-in-link"' in html


def test_the_code_page_offers_a_new_code(client, partner, mailoutbox):
    user = UserFactory(email="tina@acme.example", partner=partner, login_mode=User.LoginMode.TOKEN)
    response = client.post("/accounts/login/code/", {"email": user.email}, follow=True)
    html = response.content.decode()
    assert 'data-testid="send-new-code"' in html and "Send a new code" in html


def test_a_failed_password_sign_in_gets_the_same_code_hint_for_every_address(client, partner):
    token_user = UserFactory(
        email="tina@acme.example", partner=partner, login_mode=User.LoginMode.TOKEN
    )
    password_user = UserFactory(email="pat@acme.example", partner=partner)
    answers = []
    for email in (token_user.email, password_user.email, "nobody@nowhere.example"):
        html = client.post("/accounts/login/", {"login": email, "password": "wrong-pass-1"})
        body = html.content.decode().replace(email, "EMAIL")
        hint = re.search(r'<p class="mb-0 mt-2" data-testid="code-hint">(.*?)</p>', body, re.S)
        assert hint is not None
        answers.append(hint.group(1))
    assert len(set(answers)) == 1
