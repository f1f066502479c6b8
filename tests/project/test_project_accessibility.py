"""Every field of the main forms has a label, and the pages have one main heading."""

import re
from html.parser import HTMLParser

import pytest

from tests.factories import CompanyFactory, ProductFactory, SubscriptionFactory

CLIENT_CNPJ = "45723174000110"


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: list[dict] = []
        self.label_targets: set[str] = set()
        self.h1_count = 0
        self._open_labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1_count += 1
        if tag == "label":
            self._open_labels += 1
            if attrs.get("for"):
                self.label_targets.add(attrs["for"])
        if tag in {"input", "select", "textarea"}:
            if attrs.get("type") in {"hidden", "submit", "button"}:
                return
            attrs["_wrapped"] = self._open_labels > 0
            self.fields.append(attrs)

    def handle_endtag(self, tag):
        if tag == "label":
            self._open_labels -= 1


def _parse(response) -> _FormFields:
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser


def _main_form_fields(parser: _FormFields) -> list[dict]:
    # The navigation's sign-out form has no fields, so every field here belongs to the page.
    return [f for f in parser.fields if f.get("name") != "csrfmiddlewaretoken"]


@pytest.fixture
def client_company(db):
    company = CompanyFactory(tax_id=CLIENT_CNPJ, client=True)
    SubscriptionFactory(company=company, product__code="std", product__name="Wellhub Standard")
    ProductFactory(code="plus", name="Wellhub+")
    return company


@pytest.mark.parametrize(
    "url",
    [
        "/eligibility/check/",
        "/eligibility/bulk/",
        "/support/report/",
        "/requests/new/launch/?country=BR&tax_id=16727230000197",
        f"/requests/new/upsell/?country=BR&tax_id={CLIENT_CNPJ}",
        f"/requests/new/takeover/?country=BR&tax_id={CLIENT_CNPJ}",
    ],
)
def test_every_field_of_the_main_forms_has_a_label(alice_client, client_company, url):
    parser = _parse(alice_client.get(url))
    fields = _main_form_fields(parser)
    assert fields, f"{url} shows no form fields"
    unlabeled = [
        f.get("name")
        for f in fields
        if not f["_wrapped"] and f.get("id") not in parser.label_targets and not f.get("aria-label")
    ]
    assert unlabeled == [], f"{url}: fields without a label: {unlabeled}"
    assert parser.h1_count == 1, f"{url} has {parser.h1_count} <h1> elements"


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/password/reset/", "/accounts/login/code/"]
)
def test_sign_in_forms_label_their_fields(client, db, url):
    parser = _parse(client.get(url))
    fields = _main_form_fields(parser)
    assert fields
    assert all(f["_wrapped"] or f.get("id") in parser.label_targets for f in fields), url


def test_skip_link_leads_to_the_main_content(alice_client):
    body = alice_client.get("/eligibility/check/").content.decode()
    assert re.search(r'<a [^>]*href="#main"', body) and 'id="main"' in body
