"""Only the allauth pages the product uses exist; the rest answer 404 for everyone."""

import pytest
from allauth.account.models import EmailAddress

from tests.factories import PASSWORD

# allauth pages the product does not use: e-mail management, sign-up, password change and
# set, re-authentication, e-mail confirmation, social accounts, the /accounts/ redirect.
REMOVED = [
    "/accounts/",
    "/accounts/email/",
    "/accounts/signup/",
    "/accounts/password/change/",
    "/accounts/password/set/",
    "/accounts/reauthenticate/",
    "/accounts/reauthenticate/code/",
    "/accounts/reauthenticate/code/confirm/",
    "/accounts/confirm-email/",
    "/accounts/confirm-email/some-key/",
    "/accounts/3rdparty/",
    "/accounts/sessions/",
    "/accounts/2fa/",
]


@pytest.mark.parametrize("path", REMOVED)
def test_pages_outside_the_contract_are_not_found_signed_out(client, db, path):
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "x@evil.example"}).status_code == 404


@pytest.mark.parametrize("path", REMOVED)
def test_pages_outside_the_contract_are_not_found_signed_in(alice_client, path):
    assert alice_client.get(path).status_code == 404


def test_a_partner_cannot_add_or_make_primary_another_address(alice_client, alice, bob):
    response = alice_client.post(
        "/accounts/email/", {"action_add": "", "email": bob.email}, follow=False
    )
    assert response.status_code == 404
    assert not EmailAddress.objects.filter(user=alice, email=bob.email).exists()
    alice.refresh_from_db()
    assert alice.email == "alice@acme.example"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/login/code/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/done/",
        "/accounts/inactive/",
    ],
)
def test_pages_in_the_contract_still_answer(client, db, path):
    assert client.get(path).status_code == 200


def test_reset_link_page_still_answers_for_a_bad_key(client, db):
    response = client.get("/accounts/password/reset/key/1-not-a-key/")
    assert response.status_code == 200


def test_code_confirm_page_without_a_pending_code_goes_back_to_sign_in(client, db):
    response = client.get("/accounts/login/code/confirm/")
    assert response.status_code == 302


def test_sign_in_and_sign_out_still_work(client, alice):
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session
