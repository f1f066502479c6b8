"""Every partner page and e-mail, rendered in English, Portuguese and Spanish.

No English sentence of the English rendering may be left in the Portuguese or Spanish one,
apart from names and codes (people, partners, companies, products, references, Tax IDs, the
product's own name), and each page's `lang` attribute names its language.
"""

from __future__ import annotations

import html as html_module
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from accounts.services import reactivate_user, send_welcome
from bulk.models import BulkCheckJob
from bulk.reports import email_failure
from core.emails import render_email
from requests_app import notifications
from requests_app.models import RequestStatus
from tests.factories import (
    BulkCheckJobFactory,
    CompanyFactory,
    EligibilityCheckFactory,
    PartnerRequestFactory,
    ProductFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LANGUAGES = ("pt-br", "es")
NEW_CNPJ = "16727230000197"

# Names and codes that read the same in every language.
NAMES = [
    "Reseller Hub for Channel Partners",  # never shown whole in pt/es; listed for clarity
    "Reseller Hub",
    "Channel Partners",
    "Channel Partner",
    "Wellhub Standard",
    "Family Members",
    "Wellhub",
    "Dealdesk",
    "Acme Resellers",
    "Globex Partners",
    "Alice Owner",
    "Tina Token",
    "Alex Account",
    "Academia Paulista Ltda",
    "Logistica Rio Claro Ltda",
    "New Co",
    "companies.csv",
    "broken.csv",
    "Premium",
    "Upsell",
    "upsell",
    "CSV UTF-8",
    "UTF-8",
    "Windows-1252",
    "PNG",
    "JPEG",
    "CNPJ",
    "RFC",
    "E-mail",  # Brazilian Portuguese writes e-mail too
    "Status",  # and status
    "Chile",  # countries whose names do not change
    "Colombia",
    "Peru",
    "Argentina",
    "Portugal",
    "Total",
    # The switcher names each language in that language.
    "English",
    "Español",
    "Português Brasileiro",
]
CODE_PATTERNS = [
    r"\S+@\S+",  # e-mail addresses
    r"https?://\S+",
    r"\b(?:RH|SR)-\d+\b",
    r"\b[a-z_]+(?:,[a-z_]+)+\b",  # the CSV header (country,tax_id,…)
    r"\b[a-z]+_[a-z_]+\b",  # CSV column names (tax_id, company_name…)
    r"\bCompany \d+ Ltda\b",  # the registry's companies made up for the test
    r"\b\d[\d./-]*\b",
    r"\b[A-Z]{2}\b",  # country codes
]
# Django's admin-less pages still show a few of allauth's strings: none is English here.


class _Text(HTMLParser):
    """The visible text of a page: text nodes and the attributes people read or hear."""

    ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
    JSON_ATTRIBUTES = ("data-tax-id-labels", "data-tax-id-hints")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.parts.append(value)
            if name in self.JSON_ATTRIBUTES and value:
                self.parts.extend(json.loads(value).values())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _parts(text: str, *, html: bool) -> tuple[list[str], str]:
    if html:
        parser = _Text()
        parser.feed(text)
        raw, lang = parser.parts, parser.lang
    else:
        raw, lang = text.splitlines(), ""
    return [" ".join(part.split()) for part in raw if part.strip()], lang


def _without_names(part: str) -> str:
    for name in NAMES:
        part = part.replace(name, " ")
    for pattern in CODE_PATTERNS:
        part = re.sub(pattern, " ", part)
    return part


def english_sentences(parts: list[str]) -> set[str]:
    """The parts of the English rendering that hold English words once names are taken out."""
    return {part for part in parts if re.search(r"[A-Za-z]{2,}", _without_names(part))}


def assert_translated(english: str, translated: str, language: str, *, html: bool, what: str):
    english_parts, _ = _parts(english, html=html)
    parts, lang = _parts(translated, html=html)
    if html and lang:
        assert lang == language, f"{what}: <html lang> is {lang!r}, not {language!r}"
    shown = set(parts)
    left = sorted(sentence for sentence in english_sentences(english_parts) if sentence in shown)
    assert not left, f"{what} in {language} still shows English: {left}"


# --- The data every page shows ----------------------------------------------------------------


@pytest.fixture
def world(partner, alice, other_partner):
    partner.tier = "premium"
    partner.save()
    standard = ProductFactory(code="standard", name="Wellhub Standard")
    family = ProductFactory(code="family", name="Family Members")
    client = CompanyFactory(
        tax_id="45723174000110", legal_name="Academia Paulista Ltda", client=True
    )
    SubscriptionFactory(company=client, product=standard)
    SubscriptionFactory(company=client, product=family, paid_by_partner=other_partner)
    prospect = CompanyFactory(tax_id="35068427000106", legal_name="Logistica Rio Claro Ltda")
    launch = PartnerRequestFactory(partner=partner, created_by=alice, company=prospect)
    PartnerRequestFactory(
        partner=partner,
        created_by=alice,
        company=CompanyFactory(),
        status=RequestStatus.IN_PROGRESS,
    )
    takeover = PartnerRequestFactory(
        partner=partner, created_by=alice, takeover=True, company=client, products=[standard]
    )
    EligibilityCheckFactory(user=alice, partner=partner)
    EligibilityCheckFactory(user=alice, partner=partner, invalid=True)
    done = BulkCheckJobFactory(
        partner=partner,
        created_by=alice,
        status=BulkCheckJob.Status.DONE,
        processed_rows=1,
        counts={"available": 1},
        finished_at=timezone.now(),
    )
    failed = BulkCheckJobFactory(
        partner=partner,
        created_by=alice,
        filename="broken.csv",
        status=BulkCheckJob.Status.FAILED,
        error_message="",
    )
    return {
        "launch": launch,
        "takeover": takeover,
        "client": client,
        "done": done,
        "failed": failed,
    }


def _partner_pages(world) -> list[tuple[str, str, dict | None]]:
    """(name, url, POST data or None) for every page a partner user sees."""
    client_tax_id = world["client"].tax_id
    return [
        ("dashboard", "/", None),
        ("check", "/eligibility/check/", None),
        ("check: available", "/eligibility/check/", {"country": "BR", "tax_id": NEW_CNPJ}),
        ("check: client", "/eligibility/check/", {"country": "BR", "tax_id": client_tax_id}),
        ("check: invalid", "/eligibility/check/", {"country": "BR", "tax_id": "123"}),
        ("check: unknown country", "/eligibility/check/", {"country": "ZZ", "tax_id": "1"}),
        ("bulk jobs", "/eligibility/bulk/", None),
        ("bulk job done", f"/eligibility/bulk/{world['done'].pk}/", None),
        ("bulk job failed", f"/eligibility/bulk/{world['failed'].pk}/", None),
        ("requests", "/requests/", None),
        ("requests, filtered to nothing", "/requests/?status=lost", None),
        ("launch", f"/requests/{world['launch'].reference}/", None),
        ("takeover", f"/requests/{world['takeover'].reference}/", None),
        ("new launch", f"/requests/new/launch/?country=BR&tax_id={NEW_CNPJ}", None),
        ("new launch, refused", "/requests/new/launch/", {"country": "BR", "tax_id": NEW_CNPJ}),
        ("new upsell", f"/requests/new/upsell/?country=BR&tax_id={client_tax_id}", None),
        ("new takeover", f"/requests/new/takeover/?country=BR&tax_id={client_tax_id}", None),
        ("support", "/support/report/", None),
        ("support, refused", "/support/report/", {"description": ""}),
        ("not found", "/no-such-page/", None),
    ]


def _render(client, url: str, data: dict | None) -> str:
    response = client.post(url, data) if data is not None else client.get(url)
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    return response.content.decode()


def _as(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def test_every_partner_page_is_translated(client, alice, world):
    client.force_login(alice)
    pages = _partner_pages(world)
    _as(alice, "en")
    english = {name: _render(client, url, data) for name, url, data in pages}
    for language in LANGUAGES:
        _as(alice, language)
        for name, url, data in pages:
            assert_translated(
                english[name], _render(client, url, data), language, html=True, what=name
            )


def test_the_report_sent_page_is_translated(client, alice):
    client.force_login(alice)
    rendered = {}
    for language in ("en", *LANGUAGES):
        _as(alice, language)
        response = client.post(
            "/support/report/", {"email": alice.email, "description": "It broke."}, follow=True
        )
        rendered[language] = response.content.decode()
    for language in LANGUAGES:
        assert_translated(rendered["en"], rendered[language], language, html=True, what="sent")


def test_a_paused_partners_pages_are_translated(client, alice, partner):
    partner.is_active = False
    partner.save()
    client.force_login(alice)
    urls = ["/", "/eligibility/check/"]
    _as(alice, "en")
    english = [_render(client, url, None) for url in urls]
    for language in LANGUAGES:
        _as(alice, language)
        for url, page in zip(urls, english, strict=True):
            assert_translated(page, _render(client, url, None), language, html=True, what=url)


SIGNED_OUT_PAGES = [
    "/accounts/login/",
    "/accounts/login/code/",
    "/accounts/password/reset/",
    "/accounts/signup/",
    "/accounts/inactive/",
    "/support/report/",
    "/no-such-page/",
]


@pytest.mark.parametrize("url", SIGNED_OUT_PAGES)
def test_every_signed_out_page_is_translated(client, url):
    english = _render(client, url, None)
    for language in LANGUAGES:
        client.cookies["django_language"] = language
        assert_translated(english, _render(client, url, None), language, html=True, what=url)


def test_a_refused_sign_in_is_translated(client, alice):
    data = {"login": alice.email, "password": "wrong-password-here"}
    english = _render(client, "/accounts/login/", data)
    for language in LANGUAGES:
        client.cookies["django_language"] = language
        page = _render(client, "/accounts/login/", data)
        assert_translated(english, page, language, html=True, what="refused sign-in")


# --- E-mails to partner users ------------------------------------------------------------------


def _partner_emails(alice, world, on_commit, client) -> list[mail.EmailMessage]:
    """Every e-mail a partner user receives, as the use cases send them."""
    mail.outbox.clear()
    with on_commit():
        send_welcome(alice)
        reactivate_user(user=alice)
        notifications.notify_partner_submitted(world["launch"])
        notifications.notify_partner_submitted(world["takeover"])
        notifications.notify_status_changed(
            [world["launch"]], status=RequestStatus.IN_PROGRESS, note="Meeting on Monday."
        )
        notifications.notify_status_changed(
            [world["launch"]], status=RequestStatus.EXPIRED, note=""
        )
        notifications.notify_expiry_warning(world["launch"])
        email_failure(world["failed"].pk)
    deadline = timezone.now() + timedelta(days=7)
    warning = render_email(
        "inactivity_warning",
        alice.email,
        {"user": alice, "deadline": deadline, "login_url": "http://testserver/accounts/login/"},
        language=alice.preferred_language,
        time_zone=alice.preferred_time_zone,
    )
    messages = list(mail.outbox)
    message = mail.EmailMultiAlternatives(warning.subject, warning.text, to=warning.to)
    message.attach_alternative(warning.html, "text/html")
    messages.append(message)
    mail.outbox.clear()
    cache.clear()  # allauth's rate limits: one reset for the same address per few seconds
    Client().post("/accounts/password/reset/", {"email": alice.email})
    token = UserFactory(
        email=f"tina-{alice.language}@acme.example",
        full_name="Tina Token",
        partner=alice.partner,
        login_mode="token",
        language=alice.language,
    )
    Client().post("/accounts/login/code/", {"email": token.email})  # a browser of their own
    messages += list(mail.outbox)
    return messages


def _bodies(message) -> tuple[str, str]:
    html = next(
        (body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), ""
    )
    return message.body, html


def test_every_email_to_a_partner_user_is_in_their_language(client, alice, world, on_commit):
    _as(alice, "en")
    english = _partner_emails(alice, world, on_commit, client)
    assert len(english) >= 10
    for language in LANGUAGES:
        _as(alice, language)
        with translation.override("en"):  # the sender's own language does not matter
            translated = _partner_emails(alice, world, on_commit, client)
        assert len(translated) == len(english)
        for en_message, message in zip(english, translated, strict=True):
            what = f"e-mail “{en_message.subject}”"
            assert_translated(en_message.subject, message.subject, language, html=False, what=what)
            en_text, en_html = _bodies(en_message)
            text, html = _bodies(message)
            assert_translated(en_text, text, language, html=False, what=what)
            if en_html:
                if "<html" in html:
                    assert f'<html lang="{language}">' in html, what
                assert_translated(en_html, html, language, html=True, what=what)


def test_emails_to_wellhub_teams_stay_in_english(alice, world, on_commit):
    ae = UserFactory(email="ae@wellhub.example", partner=None, is_staff=True, language="pt-br")
    alice.language = "pt-br"
    alice.save()
    mail.outbox.clear()
    with translation.override("pt-br"), on_commit():
        notifications.notify_assigned([world["launch"]], ae=ae)
        notifications.notify_team_of_followup(world["takeover"])
        notifications.notify_dealdesk(job=world["done"], count=1)
    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 3
    assert "New launch opportunity" in subjects[0]
    assert "New payment takeover request" in subjects[1]
    assert "bulk launch request waits for approval" in subjects[2]


def test_a_token_user_with_no_saved_language_gets_the_partners_country_language(
    client, partner, on_commit
):
    UserFactory(email="nolang@acme.example", partner=partner, login_mode="token", language="")
    mail.outbox.clear()
    client.post("/accounts/login/code/", {"email": "nolang@acme.example"})
    assert mail.outbox, "a sign-in code was sent"
    assert "código" in mail.outbox[-1].body.lower() or "código" in mail.outbox[-1].subject.lower()


def _wording(page: str, kind: str) -> dict[str, str]:
    match = re.search(rf'data-tax-id-{kind}="([^"]*)"', page)
    assert match, f"the country list carries no data-tax-id-{kind}"
    return json.loads(html_module.unescape(match.group(1)))


def test_tax_id_label_names_the_countrys_document(client, alice):
    client.force_login(alice)
    page = client.get("/eligibility/check/").content.decode()
    assert ">Tax ID (CNPJ)</label>" in page
    assert "Type the CNPJ as it is written" in page
    labels = _wording(page, "labels")
    assert labels["MX"] == "Tax ID (RFC)"
    assert labels["AR"] == "Tax ID (CUIT)"
    assert labels["CL"] == "Tax ID (RUT)"
    assert labels["PE"] == "Tax ID (RUC)"
    assert labels["US"] == "Tax ID (EIN)"
    assert labels["ES"] == "Tax ID (NIF/CIF)"
    assert labels["IT"] == "Tax ID (P.IVA)"
    assert labels["DE"] == "Tax ID (USt-IdNr.)"
    assert labels["GB"] == labels["IE"] == "Tax ID (VAT)"
    assert _wording(page, "hints")["PT"].startswith("Type the NIF as it is written")
    mx = client.get("/eligibility/check/?country=MX").content.decode()
    assert ">Tax ID (RFC)</label>" in mx
    _as(alice, "es")
    es = client.get("/eligibility/check/?country=CO").content.decode()
    assert ">Identificación fiscal (NIT)</label>" in es
    assert "Escriba el NIT tal como está" in es
    assert _wording(es, "labels")["BR"] == "Identificación fiscal (CNPJ)"
