"""Staff set up their second factor themselves; until then the admin stays shut."""

import base64
import re

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.staff_helpers import LOGIN, make_staff, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ENROL = "/admin/second-factor/"


def _password_only(client, user):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD}, follow=True)


def _code_from_page(body):
    secret = re.search(r'data-totp-secret="([A-Z2-7=]+)"', body).group(1)
    return secret, f"{totp(base64.b32decode(secret)):06d}"


def test_a_new_staff_member_enrols_end_to_end(client):
    user = make_staff("support", device=False)
    page = _password_only(client, user)
    body = page.content.decode()
    assert page.redirect_chain[-1][0] == ENROL
    assert 'src="data:image/png;base64,' in body and 'name="otp_token"' in body
    secret, code = _code_from_page(body)
    assert client.get("/admin/accounts/user/").status_code == 302  # nothing else until enrolled

    done = client.post(ENROL, {"otp_token": code})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(set(codes)) == 10
    assert "no-store" in done["Cache-Control"]
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get(ENROL).status_code == 200  # may set up a new phone, once verified

    # A backup code signs in once, in place of the app.
    client.logout()
    backup = {"username": user.email, "password": PASSWORD, "otp_device": "static"}
    assert client.post(LOGIN, {**backup, "otp_token": codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.logout()
    client.post(LOGIN, {**backup, "otp_token": codes[0]})
    assert client.get("/admin/").status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_wrong_first_code_does_not_enrol(client):
    user = make_staff("ae", device=False)
    body = _password_only(client, user).content.decode()
    secret, code = _code_from_page(body)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    again = client.post(ENROL, {"otp_token": wrong}).content.decode()
    assert "That code is not right" in again
    assert f'data-totp-secret="{secret}"' in again  # the same secret: the app keeps working
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_an_enrolled_member_cannot_skip_the_code_to_reach_enrolment(client):
    user = make_staff("ae")
    client.force_login(user)
    assert client.get(ENROL)["Location"] == "/admin/login/"
    assert client.get("/admin/").status_code == 302


def test_partner_users_and_signed_out_visitors_get_no_enrolment(client, alice):
    assert client.get(ENROL)["Location"] == "/admin/login/"
    client.force_login(alice)
    assert client.get(ENROL)["Location"] == "/admin/login/"


def test_addstatictoken_still_lets_staff_in_for_recovery(client):
    user = make_staff("dealdesk", device=False)
    call_command("addstatictoken", user.email, "-t", "recover123")
    response = client.post(
        LOGIN,
        {
            "username": user.email,
            "password": PASSWORD,
            "otp_device": "static",
            "otp_token": "recover123",
        },
    )
    assert response.status_code == 302
    home = client.get("/admin/").content.decode()
    assert 'data-notice="set-up-app"' in home  # the app is still to be set up


def test_staff_signing_in_on_the_partner_page_are_sent_to_the_admin(client):
    user = make_staff("support")
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/")["Location"] == "/admin/"
    # The admin still wants the second factor.
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    sign_in(client, user)


def test_the_login_page_keeps_django_otps_fields(client, db):
    body = client.get(LOGIN).content.decode()
    for name in ("username", "password", "otp_device", "otp_token"):
        assert f'name="{name}"' in body


def test_a_new_staff_member_signing_in_on_the_partner_page_goes_to_enrolment(client):
    user = make_staff("dealdesk", device=False)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"] == ENROL
    login_page = client.get("/admin/login/").content.decode()
    assert 'data-notice="enrol"' in login_page and f'href="{ENROL}"' in login_page
