"""Which language a page is in, the switcher, and each user's language and time zone."""

import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from accounts.services import invite_user
from tests.factories import PASSWORD, PartnerFactory

SETLANG = "/i18n/setlang/"
COOKIE = "django_language"


def page_language(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page has no lang attribute"
    return match.group(1)


# --- Which language applies ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_visitor_gets_english_by_default(client):
    response = client.get("/accounts/login/")
    assert page_language(response) == "en"
    assert "Sign in to Reseller Hub" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "language", "sentence"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.5", "pt-br", "Entrar no Reseller Hub"),
        ("es-MX,es;q=0.9", "es", "Iniciar sesión en el Reseller Hub"),
        ("fr-FR,fr;q=0.9", "en", "Sign in to Reseller Hub"),
    ],
)
def test_the_browser_language_applies_when_nothing_was_chosen(client, accept, language, sentence):
    response = client.get("/accounts/login/", headers={"accept-language": accept})
    assert page_language(response) == language
    assert sentence in response.content.decode()


@pytest.mark.django_db
def test_the_switcher_cookie_wins_over_the_browser(client):
    client.cookies[COOKIE] = "es"
    response = client.get("/accounts/login/", headers={"accept-language": "pt-BR"})
    assert page_language(response) == "es"


@pytest.mark.django_db
def test_a_signed_in_users_saved_language_wins_over_cookie_and_browser(client, alice):
    alice.language = "pt-br"
    alice.save()
    client.force_login(alice)
    client.cookies[COOKIE] = "es"
    response = client.get("/", headers={"accept-language": "es"})
    assert page_language(response) == "pt-br"
    assert "Painel" in response.content.decode()


@pytest.mark.django_db
def test_a_user_without_a_saved_language_follows_the_cookie(client, alice):
    alice.language = ""
    alice.save()
    client.force_login(alice)
    client.cookies[COOKIE] = "es"
    assert page_language(client.get("/")) == "es"


# --- The switcher ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_has_the_switcher_form(client, alice):
    for response in (client.get("/accounts/login/"), client.get("/accounts/login/code/")):
        html = response.content.decode()
        assert f'action="{SETLANG}"' in html
        for value in ("pt-br", "es", "en"):
            assert f'value="{value}"' in html
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert 'data-testid="language-switcher"' in html
    assert 'name="next" value="/"' in html


@pytest.mark.django_db
def test_switching_sets_the_cookie_and_returns_to_the_page(client):
    response = client.post(SETLANG, {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert response.cookies[COOKIE].value == "es"
    assert page_language(client.get("/accounts/login/")) == "es"


@pytest.mark.django_db
def test_switching_while_signed_in_saves_the_choice_on_the_account(client, alice):
    client.force_login(alice)
    client.post(SETLANG, {"language": "pt-br", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == "pt-br"
    client.logout()
    client.cookies.clear()
    client.force_login(alice)  # another browser: no cookie, the account remembers
    assert page_language(client.get("/")) == "pt-br"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"language": "fr", "next": "/"},
        {"language": "pt-BR-x-evil", "next": "/"},
        {"language": "", "next": "/"},
        {"next": "/"},
        {"language": "<script>", "next": "/"},
    ],
)
def test_an_unknown_or_missing_language_changes_nothing(client, alice, data):
    alice.language = "es"
    alice.save()
    client.force_login(alice)
    response = client.post(SETLANG, data)
    assert response.status_code == 302
    assert response["Location"] == "/"
    if COOKIE in response.cookies:  # the browser's cookie follows the account: still Spanish
        assert response.cookies[COOKIE].value == "es"
    alice.refresh_from_db()
    assert alice.language == "es"
    assert page_language(client.get("/")) == "es"


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{"language": "fr"}, {"language": ""}, {}])
def test_a_visitors_unknown_or_missing_language_sets_no_cookie(client, data):
    client.cookies[COOKIE] = "pt-br"
    response = client.post(SETLANG, {**data, "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert COOKIE not in response.cookies
    assert page_language(client.get("/accounts/login/")) == "pt-br"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/",
        "http://evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "",
    ],
)
def test_switching_never_redirects_off_the_site(client, next_url):
    response = client.post(
        SETLANG,
        {"language": "es", "next": next_url},
        headers={"referer": "https://evil.example/"},
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil" not in location


@pytest.mark.django_db
def test_a_get_to_the_switcher_changes_nothing(client, alice):
    client.force_login(alice)
    response = client.get(SETLANG, {"language": "es", "next": "/"})
    if COOKIE in response.cookies:  # the cookie follows the account: still English
        assert response.cookies[COOKIE].value == "en"
    alice.refresh_from_db()
    assert alice.language == "en"


@pytest.mark.django_db
def test_the_switcher_needs_the_csrf_token(alice):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    response = csrf_client.post(SETLANG, {"language": "es", "next": "/"})
    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.language == "en"


# --- A new user's language and zone ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "language", "zone"),
    [
        ("BR", "pt-br", "America/Sao_Paulo"),
        ("MX", "es", "America/Mexico_City"),
        ("AR", "es", "America/Argentina/Buenos_Aires"),
        ("CL", "es", "America/Santiago"),
        ("CO", "es", "America/Bogota"),
        ("PE", "es", "America/Lima"),
        ("ES", "es", "Europe/Madrid"),
        ("US", "en", "America/New_York"),
        ("DE", "en", "Europe/Berlin"),
    ],
)
def test_a_new_user_gets_the_partners_country_language_and_zone(country, language, zone):
    partner = PartnerFactory(home_country=country)
    user = invite_user(email=f"new@{country.lower()}.example", partner=partner)
    assert (user.language, user.time_zone) == (language, zone)


@pytest.mark.django_db
def test_invite_user_command_takes_a_language(partner, on_commit):
    with on_commit():
        call_command("invite_user", "x@acme.example", "--partner", partner.name, "--language", "es")
    assert User.objects.get(email="x@acme.example").language == "es"
    assert mail.outbox[-1].subject.endswith("Le damos la bienvenida al Reseller Hub")


@pytest.mark.django_db
def test_invite_user_command_defaults_to_the_partners_country(partner, on_commit):
    with on_commit():
        call_command("invite_user", "y@acme.example", "--partner", partner.name)
    assert User.objects.get(email="y@acme.example").language == "pt-br"
    assert "Boas-vindas ao Reseller Hub" in mail.outbox[-1].subject


@pytest.mark.django_db
def test_invite_user_command_refuses_an_unknown_language_and_writes_nothing(partner):
    with pytest.raises(CommandError, match="pt-br, es"):
        call_command("invite_user", "z@acme.example", "--partner", partner.name, "--language", "fr")
    assert not User.objects.filter(email="z@acme.example").exists()
    assert not mail.outbox


@pytest.mark.django_db
def test_staff_change_a_users_language_and_zone_in_the_admin(staff_client, alice):
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    form = staff_client.get(url).content.decode()
    assert 'name="language"' in form and 'name="time_zone"' in form
    data = {
        "email": alice.email,
        "full_name": alice.full_name,
        "partner": alice.partner_id,
        "login_mode": alice.login_mode,
        "language": "es",
        "time_zone": "America/Mexico_City",
        "is_active": "on",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("es", "America/Mexico_City")


@pytest.mark.django_db
def test_the_admin_refuses_a_time_zone_that_does_not_exist(staff_client, alice):
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    data = {
        "email": alice.email,
        "full_name": alice.full_name,
        "partner": alice.partner_id,
        "login_mode": alice.login_mode,
        "language": "es",
        "time_zone": "Mars/Olympus_Mons",
        "is_active": "on",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "is not a time zone" in response.content.decode()
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("en", "UTC")


# --- Times in the user's zone -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "zone", "shown"),
    [
        ("pt-br", "America/Sao_Paulo", "10/03/2026 16:15"),
        ("es", "America/Mexico_City", "10/03/2026 13:15"),
        ("en", "UTC", "March 10, 2026, 7:15 p.m."),
    ],
)
def test_times_are_shown_in_the_users_zone_and_language_format(
    client, alice, language, zone, shown
):
    from datetime import UTC, datetime

    from tests.factories import EligibilityCheckFactory

    alice.language, alice.time_zone = language, zone
    alice.save()
    EligibilityCheckFactory(
        user=alice, partner=alice.partner, created_at=datetime(2026, 3, 10, 19, 15, tzinfo=UTC)
    )
    client.force_login(alice)
    html = client.get(reverse("eligibility:check")).content.decode()
    assert shown in html


@pytest.mark.django_db
def test_the_signed_in_message_is_in_the_users_language(client, alice):
    alice.language = "pt-br"
    alice.save()
    response = client.post(
        "/accounts/login/", {"login": alice.email, "password": PASSWORD}, follow=True
    )
    html = response.content.decode()
    assert page_language(response) == "pt-br"
    assert "Successfully signed in" not in html


@pytest.mark.django_db
def test_pages_stay_in_the_users_language_after_signing_out(client, alice):
    alice.language = "es"
    alice.save()
    client.force_login(alice)
    client.get("/")
    response = client.post("/accounts/logout/", follow=True)
    assert page_language(response) == "es"
    assert page_language(client.get("/accounts/login/")) == "es"


def test_the_account_offers_the_languages_the_site_speaks():
    from django.conf import settings

    from accounts.models import Language

    assert [code for code, _name in settings.LANGUAGES] == Language.values


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("chosen", "language", "subject"), [("es", "es", "Le damos"), ("", "pt-br", "Boas")]
)
def test_staff_add_a_user_with_a_language_or_the_countrys(
    staff_client, partner, on_commit, mailoutbox, chosen, language, subject
):
    with on_commit():
        response = staff_client.post(
            "/admin/accounts/user/add/",
            {
                "email": "fresh@acme.example",
                "full_name": "Fresh Person",
                "partner": partner.pk,
                "login_mode": "password",
                "language": chosen,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="fresh@acme.example")
    assert (user.language, user.time_zone) == (language, "America/Sao_Paulo")
    assert subject in mailoutbox[0].subject
