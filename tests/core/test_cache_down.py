"""With the cache unreachable: sessions still work, rate limits fail closed, error pages draw.

The cache points at a closed port (no Redis server needed); sessions live in the database.
"""

import re

import pytest

from support.models import ProblemReport
from tests.factories import PASSWORD

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }


def _reference(response) -> str:
    found = re.search(r"<code data-request-id>([^<]+)</code>", response.content.decode())
    return found.group(1) if found else ""


def test_sign_in_fails_closed_with_try_again_and_a_reference(client, alice, cache_down):
    for _attempt in range(3):
        response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
        assert response.status_code == 503
        assert "try again in a minute" in response.content.decode().lower()
        assert _reference(response) == response["X-Request-ID"]
        assert "_auth_user_id" not in client.session


def test_code_request_and_password_reset_fail_closed_too(client, alice, cache_down, mailoutbox):
    assert client.post("/accounts/login/code/", {"email": alice.email}).status_code == 503
    assert client.post("/accounts/password/reset/", {"email": alice.email}).status_code == 503
    assert not mailoutbox


def test_signed_in_pages_keep_working_from_the_database(alice_client, cache_down):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert "data-partner-name" in response.content.decode()
    response = alice_client.get("/eligibility/check/")
    assert response.status_code == 200


def test_a_support_report_is_refused_whole_with_a_reference(alice_client, alice, cache_down):
    response = alice_client.post(
        "/support/report/", {"email": alice.email, "description": "Something is off."}
    )
    assert response.status_code == 503
    assert _reference(response) == response["X-Request-ID"]
    assert not ProblemReport.objects.exists()


def test_error_pages_draw_without_the_session_or_the_cache(alice_client, cache_down):
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    assert _reference(response) == response["X-Request-ID"]


def test_the_error_page_keeps_the_signed_in_header_and_a_working_sign_out(alice_client):
    response = alice_client.get("/requests/RH-999999/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "data-partner-name" in body
    assert 'name="csrfmiddlewaretoken"' in body
