"""Password login, login by e-mailed code, sign-up closed and rate limits."""

import re
import time

import pytest
from allauth.account.internal.flows import code_verification
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
CODE_REQUEST = "/accounts/login/code/"
CODE_CONFIRM = "/accounts/login/code/confirm/"
CODE_PATTERN = r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b"


def _code_from(mail) -> str:
    match = re.search(CODE_PATTERN, mail.body)
    assert match, mail.body
    return match.group(1)


def _is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def token_user(partner):
    return UserFactory(email="tina@acme.example", partner=partner, login_mode=User.LoginMode.TOKEN)


class _ShiftedClock:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def time(self) -> float:
        return time.time() + self.seconds


def test_password_user_signs_in_and_sees_partner_name(client, alice):
    response = client.post(
        LOGIN, {"login": "ALICE@acme.example", "password": PASSWORD}, follow=True
    )
    assert _is_signed_in(client)
    assert "Acme Resellers" in response.content.decode()


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, alice):
    response = client.post(LOGIN, {"login": alice.email, "password": "nope-nope-nope"})
    assert not _is_signed_in(client)
    assert "not correct" in response.content.decode()


def test_password_never_signs_in_a_token_user(client, token_user):
    token_user.set_password("a-password-they-should-not-have")
    token_user.save()
    response = client.post(
        LOGIN, {"login": token_user.email, "password": "a-password-they-should-not-have"}
    )
    assert not _is_signed_in(client)
    assert "code sent by e-mail" in response.content.decode()


def test_token_user_signs_in_with_emailed_code(client, token_user, mailoutbox):
    response = client.post(CODE_REQUEST, {"email": token_user.email})
    assert response.status_code == 302 and response["Location"] == CODE_CONFIRM
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [token_user.email]
    response = client.post(CODE_CONFIRM, {"code": _code_from(mailoutbox[0])})
    assert _is_signed_in(client)
    token_user.refresh_from_db()
    assert token_user.last_login is not None


def test_code_is_accepted_just_before_ten_minutes(client, token_user, mailoutbox, monkeypatch):
    client.post(CODE_REQUEST, {"email": token_user.email})
    monkeypatch.setattr(code_verification, "time", _ShiftedClock(9 * 60 + 55))
    client.post(CODE_CONFIRM, {"code": _code_from(mailoutbox[0])})
    assert _is_signed_in(client)


def test_code_is_refused_just_after_ten_minutes(client, token_user, mailoutbox, monkeypatch):
    client.post(CODE_REQUEST, {"email": token_user.email})
    monkeypatch.setattr(code_verification, "time", _ShiftedClock(10 * 60 + 5))
    client.post(CODE_CONFIRM, {"code": _code_from(mailoutbox[0])})
    assert not _is_signed_in(client)


def test_code_works_only_once(client, token_user, mailoutbox):
    client.post(CODE_REQUEST, {"email": token_user.email})
    code = _code_from(mailoutbox[0])
    client.post(CODE_CONFIRM, {"code": code})
    client.post(reverse("account_logout"))
    assert not _is_signed_in(client)
    response = client.post(CODE_CONFIRM, {"code": code})
    assert not _is_signed_in(client)
    # No sign-in is waiting for a code any more: back to asking for a new one.
    assert response.status_code == 302 and response["Location"] == CODE_REQUEST


def test_three_wrong_codes_void_the_right_one(client, token_user, mailoutbox):
    client.post(CODE_REQUEST, {"email": token_user.email})
    code = _code_from(mailoutbox[0])
    for _ in range(3):
        client.post(CODE_CONFIRM, {"code": "WRNG-1234"})
    client.post(CODE_CONFIRM, {"code": code})
    assert not _is_signed_in(client)


def test_code_is_bound_to_the_login_attempt_that_asked_for_it(
    client, token_user, mailoutbox, django_user_model
):
    from django.test import Client

    client.post(CODE_REQUEST, {"email": token_user.email})
    other_browser = Client()
    other_browser.post(CODE_CONFIRM, {"code": _code_from(mailoutbox[0])})
    assert "_auth_user_id" not in other_browser.session


def test_password_user_asking_for_a_code_gets_no_code_and_the_same_page(
    client, alice, token_user, mailoutbox
):
    response_for_password_user = client.post(CODE_REQUEST, {"email": alice.email})
    from django.test import Client

    response_for_token_user = Client().post(CODE_REQUEST, {"email": token_user.email})
    assert response_for_password_user.status_code == response_for_token_user.status_code == 302
    assert response_for_password_user["Location"] == response_for_token_user["Location"]
    to_alice = [m for m in mailoutbox if m.to == [alice.email]]
    assert len(to_alice) == 1
    assert not re.search(CODE_PATTERN, to_alice[0].body)
    assert "password" in to_alice[0].body


def test_inactive_user_with_right_password_sees_contact_support_page(client, alice, settings):
    alice.is_active = False
    alice.deactivation_reason = User.DeactivationReason.INACTIVITY
    alice.save()
    response = client.post(LOGIN, {"login": alice.email, "password": PASSWORD}, follow=True)
    assert not _is_signed_in(client)
    body = response.content.decode()
    assert 'data-account-state="inactive"' in body
    assert settings.SUPPORT_EMAIL in body


def test_sign_up_is_closed_for_get_and_post(client, db, django_user_model):
    # The sign-up page is no longer mounted at all (DESIGN §8: allauth pages not in the
    # contract answer 404).
    assert client.get("/accounts/signup/").status_code == 404
    client.post(
        "/accounts/signup/",
        {"email": "new@evil.example", "password1": "Xx-123456789", "password2": "Xx-123456789"},
    )
    assert not django_user_model.objects.filter(email="new@evil.example").exists()


def test_repeated_failed_logins_are_rate_limited(client, alice):
    for _ in range(5):
        client.post(LOGIN, {"login": alice.email, "password": "wrong-password-x"})
    response = client.post(LOGIN, {"login": alice.email, "password": PASSWORD})
    assert not _is_signed_in(client)
    assert "Too many" in response.content.decode()


def test_deactivated_users_open_session_ends(alice_client, alice):
    assert alice_client.get("/").status_code == 200
    from accounts.services import block_user

    block_user(user=alice)
    response = alice_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_idle_session_ends_after_the_idle_timeout(alice_client, settings, monkeypatch):
    import core.middleware

    assert alice_client.get("/").status_code == 200
    real_time = time.time
    monkeypatch.setattr(
        core.middleware.time, "time", lambda: real_time() + settings.SESSION_IDLE_TIMEOUT + 5
    )
    response = alice_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_active_session_still_ends_twelve_hours_after_sign_in(alice_client, settings, monkeypatch):
    import core.middleware

    real_time = time.time
    assert alice_client.get("/").status_code == 200
    # Active every hour: never idle, but past the absolute limit in the end.
    for hour in range(1, 12):
        monkeypatch.setattr(core.middleware.time, "time", lambda h=hour: real_time() + h * 3600)
        assert alice_client.get("/").status_code == 200
    monkeypatch.setattr(
        core.middleware.time, "time", lambda: real_time() + settings.SESSION_COOKIE_AGE + 60
    )
    response = alice_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
