"""Production security settings and the CSP-clean markup of the hub's own pages."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.factories import PASSWORD

PRODUCTION = {
    "PATH": os.environ.get("PATH", ""),
    "HUB_TESTING": "0",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "s" * 20 + "-production-like-secret-for-this-test-only-7a6b5c4d",
    "ALLOWED_HOSTS": "hub.example.com",
}
NAMES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_AGE",
    "SESSION_IDLE_TIMEOUT",
    "ADMIN_REQUIRE_OTP",
    "SUPPORT_SCREENSHOT_MAX_BYTES",
]


@pytest.fixture(scope="module")
def production_settings() -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {NAMES!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=PRODUCTION,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_cookies_are_secure_and_http_only(production_settings):
    for name in (
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
    ):
        assert production_settings[name] is True, name


def test_production_forces_https_with_a_year_of_hsts(production_settings):
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production_settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production_settings["X_FRAME_OPTIONS"] == "DENY"


def test_production_timeouts_and_staff_second_factor(production_settings):
    assert production_settings["SESSION_COOKIE_AGE"] == 12 * 3600
    assert production_settings["SESSION_IDLE_TIMEOUT"] == 2 * 3600
    assert production_settings["ADMIN_REQUIRE_OTP"] is True
    assert production_settings["SUPPORT_SCREENSHOT_MAX_BYTES"] == 5 * 1024 * 1024


def test_session_ends_with_the_browser_and_the_server_keeps_it_twelve_hours(client, alice):
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # no "remember me"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.session.get_expiry_age() == 12 * 3600


def test_support_rate_limits_live_with_allauths_on_the_shared_cache():
    assert settings.ACCOUNT_RATE_LIMITS["support_report_anonymous"] == "5/h/ip,5/h/key"
    assert settings.ACCOUNT_RATE_LIMITS["support_report"] == "10/h/user"


def _assert_csp_clean(response):
    body = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "inline script"
    assert not re.search(r"\sstyle=", body), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", body), "inline event handler"


@pytest.mark.parametrize("url", ["/support/report/", "/no/such/page/"])
def test_hub_pages_need_no_inline_script_or_style_signed_out(client, db, url):
    _assert_csp_clean(client.get(url))


def test_dashboard_and_thank_you_page_need_no_inline_script_or_style(alice_client, partner):
    _assert_csp_clean(alice_client.get("/"))
    alice_client.post("/support/report/", {"description": "Hello"})
    _assert_csp_clean(alice_client.get("/support/report/sent/"))


def test_staff_pages_of_our_own_need_no_inline_script_or_style(client, db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import StaffFactory

    client.force_login(StaffFactory())  # signed in, no second factor yet: the enrolment page
    _assert_csp_clean(client.get("/admin/second-factor/"))
    assert TOTPDevice.objects.filter(confirmed=False).exists()


def _admin_login(client, staff, device, token):
    return client.post(
        "/admin/login/",
        {
            "username": staff.email,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": token,
        },
    )


def test_staff_signs_in_to_the_admin_with_a_totp_code(client, staff):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    _admin_login(client, staff, device, f"{totp(device.bin_key):06d}")
    assert client.get("/admin/support/problemreport/").status_code == 200


def test_a_wrong_totp_code_keeps_staff_out_of_the_admin(client, staff):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    wrong = (totp(device.bin_key) + 1) % 1_000_000
    _admin_login(client, staff, device, f"{wrong:06d}")
    response = client.get("/admin/support/problemreport/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
