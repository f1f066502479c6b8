"""/admin/login/ gives nothing away and is throttled like the partner sign-in."""

import re

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django_otp.oath import totp

from tests.accounts.staff_helpers import LOGIN, code_for, make_staff
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
REFUSED = "The e-mail address, password or code is not right for a staff account."


@pytest.fixture
def hashes(monkeypatch):
    """How many password hashes were computed."""
    calls = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(1)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return calls


def _attempt(client, email, password, **otp):
    response = client.post(LOGIN, {"username": email, "password": password, **otp})
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response, body.replace(email, "EMAIL")


def test_wrong_password_right_password_without_code_and_unknown_account_look_the_same(
    client, hashes
):
    staff = make_staff("support", email="sofia@wellhub.example")
    answers = []
    for email, password in (
        (staff.email, "wrong-password-1"),
        (staff.email, PASSWORD),
        ("nobody@wellhub.example", PASSWORD),
    ):
        hashes.clear()
        response, body = _attempt(client, email, password, otp_device="totp", otp_token="")
        assert response.status_code == 200
        answers.append((body, len(hashes)))
    assert REFUSED in answers[0][0]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == 1  # one password hash each, whatever the outcome


def test_a_wrong_code_with_the_right_password_is_the_same_answer(client):
    staff = make_staff("ae", email="alex@wellhub.example")
    device, code = code_for(staff)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    _, with_wrong_code = _attempt(
        client, staff.email, PASSWORD, otp_device=device.persistent_id, otp_token=wrong
    )
    _, with_wrong_password = _attempt(
        client, staff.email, "not-it", otp_device=device.persistent_id, otp_token=wrong
    )
    assert with_wrong_code == with_wrong_password
    assert device.persistent_id not in with_wrong_code  # the page never lists one's devices


def test_partner_users_get_the_same_answer_as_everyone(client, alice):
    _, body = _attempt(client, alice.email, PASSWORD)
    assert REFUSED in body
    assert client.get("/admin/").status_code == 302


def test_failed_attempts_on_one_account_are_throttled(client):
    staff = make_staff("dealdesk", email="diego@wellhub.example")
    for _ in range(5):
        _attempt(client, staff.email, PASSWORD, otp_device="totp", otp_token="000000")
    device, code = code_for(staff)
    response, body = _attempt(
        client, staff.email, PASSWORD, otp_device=device.persistent_id, otp_token=code
    )
    assert "Too many failed login attempts" in body
    assert client.get("/admin/").status_code == 302


def test_failed_attempts_from_one_address_are_throttled(client):
    staff = make_staff("support", email="sam@wellhub.example")
    for n in range(10):
        _attempt(client, f"guess{n}@wellhub.example", "password-guess")
    device = code_for(staff)[0]
    response, body = _attempt(
        client,
        staff.email,
        PASSWORD,
        otp_device=device.persistent_id,
        otp_token=f"{totp(device.bin_key):06d}",
    )
    assert "Too many failed login attempts" in body
    assert client.get("/admin/").status_code == 302


def test_the_partner_sign_in_and_the_admin_share_the_counter(client):
    staff = make_staff("support", email="shared@wellhub.example")
    for _ in range(5):
        client.post("/accounts/login/", {"login": staff.email, "password": "wrong-password"})
    _, body = _attempt(client, staff.email, PASSWORD, otp_device="totp", otp_token="123456")
    assert "Too many failed login attempts" in body


def test_another_members_device_does_not_verify_a_sign_in(client):
    mine = make_staff("ae", email="me@wellhub.example")
    theirs = make_staff("ae", email="them@wellhub.example")
    their_device, their_code = code_for(theirs)
    _, body = _attempt(
        client, mine.email, PASSWORD, otp_device=their_device.persistent_id, otp_token=their_code
    )
    assert REFUSED in body
    assert client.get("/admin/").status_code == 302


def test_with_the_second_factor_off_a_password_opens_the_admin(client, settings):
    settings.ADMIN_REQUIRE_OTP = False  # the quickstart (DEBUG) default
    staff = make_staff("support", device=False)
    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()
    response = client.post(LOGIN, {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/admin/").content.decode()
    assert "data-staff-home" in home and 'data-notice="set-up-app"' not in home
