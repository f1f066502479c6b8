"""The single eligibility check page: /eligibility/check/."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from eligibility.models import Company, EligibilityCheck
from requests_app.models import RequestStatus
from tests.factories import (
    CompanyFactory,
    PartnerFactory,
    PartnerRequestFactory,
    ProductFactory,
    SubscriptionFactory,
    UserFactory,
)

URL = "/eligibility/check/"

CNPJ = "16727230000197"
CNPJ_FORMATTED = "16.727.230/0001-97"
CNPJ_BRANCH = "16727230000278"  # same root (16727230), branch 0002
OTHER_CNPJ = "11222333000181"


def result_of(response) -> str:
    match = re.search(r'data-eligibility="([a-z]+)"', response.content.decode())
    return match.group(1) if match else ""


def action_links(response) -> dict[str, str]:
    """data-action → href of the links that start a request."""
    html = response.content.decode()
    links = {}
    for tag in re.findall(r"<a\b[^>]*\bdata-action=\"[a-z]+\"[^>]*>", html):
        action = re.search(r'data-action="([a-z]+)"', tag).group(1)
        links[action] = unescape(re.search(r'href="([^"]*)"', tag).group(1))
    return links


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def post_check(client, tax_id, country="BR", company_name=""):
    return client.post(URL, {"country": country, "tax_id": tax_id, "company_name": company_name})


@pytest.fixture
def products(db):
    return {
        code: ProductFactory(code=code, name=name)
        for code, name in [("gym", "Gym access"), ("therapy", "Therapy"), ("nutri", "Nutrition")]
    }


def client_company(tax_id=CNPJ, **fields):
    return CompanyFactory(tax_id=tax_id, legal_name="Initech Ltda", client=True, **fields)


def open_launch(*, partner, company, status=RequestStatus.SUBMITTED, reference="RH-000042"):
    return PartnerRequestFactory(
        partner=partner, company=company, status=status, reference=reference
    )


# --- Who may use the page ---------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_anonymous_post_checks_nothing(client, db):
    response = post_check(client, CNPJ)
    assert response.status_code == 302
    assert not EligibilityCheck.objects.exists()


def test_staff_without_a_partner_is_refused(staff_client):
    assert staff_client.get(URL).status_code == 403
    assert post_check(staff_client, CNPJ).status_code == 403
    assert not EligibilityCheck.objects.exists()


def test_user_of_a_deactivated_partner_is_refused(alice_client, partner):
    partner.is_active = False
    partner.save()
    assert alice_client.get(URL).status_code == 403
    assert post_check(alice_client, CNPJ).status_code == 403
    assert not EligibilityCheck.objects.exists()


def test_other_methods_are_not_allowed(alice_client):
    assert alice_client.put(URL).status_code == 405
    assert alice_client.delete(URL).status_code == 405


def test_post_without_csrf_token_is_rejected(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post_check(client, CNPJ)
    assert response.status_code == 403
    assert not EligibilityCheck.objects.exists()


# --- The empty form ---------------------------------------------------------------------------


def test_form_has_one_heading_and_a_label_for_every_field(alice_client):
    html = alice_client.get(URL).content.decode()
    assert html.count("<h1") == 1
    for field in ("country", "tax_id", "company_name"):
        assert f'for="id_{field}"' in html
        assert f'name="{field}"' in html
    assert "data-eligibility" not in html


def test_partner_home_country_is_preselected(client, db):
    mexican = UserFactory(partner=PartnerFactory(home_country="MX"))
    client.force_login(mexican)
    html = client.get(URL).content.decode()
    assert re.search(r'<option value="MX" selected>', html)
    assert not re.search(r'<option value="BR" selected>', html)


def test_query_string_prefills_the_form_without_checking(alice_client):
    response = alice_client.get(
        URL, {"country": "cl", "tax_id": "76.086.428-5", "company_name": "Andes SpA"}
    )
    html = response.content.decode()
    assert re.search(r'<option value="CL" selected>', html)
    assert 'value="76.086.428-5"' in html
    assert 'value="Andes SpA"' in html
    assert "data-eligibility" not in html
    assert not EligibilityCheck.objects.exists()


def test_prefill_ignores_unknown_countries_and_cuts_huge_values(alice_client):
    html = alice_client.get(URL, {"country": "ZZ", "tax_id": "9" * 10_000}).content.decode()
    assert re.search(r'<option value="BR" selected>', html)
    assert "9" * 65 not in html


@pytest.mark.parametrize(
    "query",
    [
        {"country": "<script>alert(1)</script>", "tax_id": "<b>x</b>"},
        {"country": "Z" * 5000, "tax_id": "\x00\x01", "company_name": "\x00" * 400},
        "country=BR&country=MX&tax_id=1&tax_id=2",
        "tax_id=%ff%fe&company_name=%00",
    ],
)
def test_tampered_query_string_never_breaks_the_page(alice_client, query):
    response = (
        alice_client.get(URL, query)
        if isinstance(query, dict)
        else alice_client.get(f"{URL}?{query}")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html and "<b>x</b>" not in html
    assert not EligibilityCheck.objects.exists()


# --- Available --------------------------------------------------------------------------------


def test_new_company_is_available_with_a_launch_link(alice_client, alice):
    response = post_check(alice_client, CNPJ_FORMATTED, company_name="Initech")
    assert response.status_code == 200
    assert result_of(response) == "available"
    links = action_links(response)
    assert set(links) == {"launch"}
    assert urlsplit(links["launch"]).path == "/requests/new/launch/"
    assert query_of(links["launch"]) == {
        "country": ["BR"],
        "tax_id": [CNPJ],
        "company_name": ["Initech"],
    }


@pytest.mark.parametrize(
    "typed",
    [CNPJ, CNPJ_FORMATTED, f"  {CNPJ_FORMATTED}  ", "16 727 230 0001 97", "16727230/0001-97"],
)
def test_formatting_never_changes_the_answer(alice_client, typed):
    CompanyFactory(tax_id=CNPJ, blocked=True)
    response = post_check(alice_client, typed)
    assert result_of(response) == "unavailable"
    assert EligibilityCheck.objects.get().tax_id == CNPJ


def test_country_code_in_lower_case_is_accepted(alice_client):
    response = post_check(alice_client, CNPJ, country="br")
    assert result_of(response) == "available"


def test_empty_country_means_the_partner_home_country(alice_client):
    response = post_check(alice_client, CNPJ, country="")
    assert result_of(response) == "available"
    assert EligibilityCheck.objects.get().country == "BR"


def test_prospect_in_the_registry_is_available_and_named(alice_client):
    CompanyFactory(tax_id=CNPJ, legal_name="Initech Prospect")
    response = post_check(alice_client, CNPJ)
    assert result_of(response) == "available"
    assert "Initech Prospect" in response.content.decode()
    assert "launch" in action_links(response)


def test_every_check_is_logged_with_who_input_and_answer(alice_client, alice, partner):
    post_check(alice_client, CNPJ_FORMATTED, company_name="Initech")
    entry = EligibilityCheck.objects.get()
    assert entry.user == alice
    assert entry.partner == partner
    assert entry.source == EligibilityCheck.Source.SINGLE
    assert (entry.country, entry.raw_input, entry.company_name) == ("BR", CNPJ_FORMATTED, "Initech")
    assert (entry.tax_id, entry.result, entry.reason) == (CNPJ, "available", "new_company")


# --- Client -----------------------------------------------------------------------------------


def test_client_offers_upsell_of_missing_products_and_takeover_of_direct_payments(
    alice_client, partner, other_partner, products
):
    company = client_company()
    SubscriptionFactory(company=company, product=products["gym"])  # paid directly
    SubscriptionFactory(company=company, product=products["therapy"], paid_by_partner=other_partner)
    response = post_check(alice_client, CNPJ)
    html = response.content.decode()
    assert result_of(response) == "client"
    links = action_links(response)
    assert set(links) == {"upsell", "takeover"}
    assert urlsplit(links["upsell"]).path == "/requests/new/upsell/"
    assert urlsplit(links["takeover"]).path == "/requests/new/takeover/"
    assert query_of(links["upsell"])["tax_id"] == [CNPJ]
    assert "Initech Ltda" in html
    # The request forms get the company's registered name when none was typed.
    assert query_of(links["takeover"])["company_name"] == ["Initech Ltda"]
    # What it can still buy, and what the client pays directly.
    assert re.search(r"does not have yet:\s*Nutrition", html)
    assert re.search(r"pays Wellhub for directly:\s*Gym access", html)
    # Another partner's involvement is shown without naming it.
    assert "paid through a partner" in html
    assert other_partner.name not in html


def test_products_paid_by_own_partner_are_not_offered_for_takeover(alice_client, partner, products):
    company = client_company()
    for product in products.values():
        SubscriptionFactory(company=company, product=product, paid_by_partner=partner)
    response = post_check(alice_client, CNPJ)
    html = response.content.decode()
    assert result_of(response) == "client"
    assert action_links(response) == {}
    assert "paid by your organisation" in html
    assert "nothing to request right now" in html


def test_referral_only_partner_is_told_why_it_cannot_take_over_payment(client, products):
    referral = UserFactory(partner=PartnerFactory(allows_reseller=False, allows_referral=True))
    client.force_login(referral)
    company = client_company()
    SubscriptionFactory(company=company, product=products["gym"])
    response = post_check(client, CNPJ)
    assert result_of(response) == "client"
    assert set(action_links(response)) == {"upsell"}
    assert "reseller business model" in response.content.decode()


def test_branch_of_a_client_gets_the_client_answer(alice_client, products):
    client_company()
    response = post_check(alice_client, CNPJ_BRANCH)
    assert result_of(response) == "client"
    assert "branch of a company" in response.content.decode()
    assert query_of(action_links(response)["upsell"])["tax_id"] == [CNPJ_BRANCH]
    assert EligibilityCheck.objects.get().reason == "branch_of_client"


def test_client_page_queries_do_not_grow_with_products_or_history(alice_client, products):
    company = client_company()
    SubscriptionFactory(company=company, product=products["gym"])
    post_check(alice_client, CNPJ)
    with CaptureQueriesContext(connection) as small:
        post_check(alice_client, CNPJ)

    SubscriptionFactory.create_batch(40, company=company)
    for _ in range(12):
        post_check(alice_client, OTHER_CNPJ)
    with CaptureQueriesContext(connection) as large:
        response = post_check(alice_client, CNPJ)

    assert result_of(response) == "client"
    assert len(large.captured_queries) == len(small.captured_queries) <= 10


# --- Unavailable ------------------------------------------------------------------------------


def test_blocked_company_is_unavailable_without_any_action(alice_client):
    CompanyFactory(tax_id=CNPJ, legal_name="Blocked SA", blocked=True)
    response = post_check(alice_client, CNPJ)
    html = response.content.decode()
    assert result_of(response) == "unavailable"
    assert action_links(response) == {}
    assert "cannot accept this company" in html
    assert "Blocked SA" not in html


def test_branch_of_blocked_company_is_unavailable(alice_client):
    CompanyFactory(tax_id=CNPJ, blocked=True)
    assert result_of(post_check(alice_client, CNPJ_BRANCH)) == "unavailable"


def test_company_protected_by_another_partner_is_unavailable_and_partner_not_named(
    alice_client, other_partner
):
    company = CompanyFactory(tax_id=CNPJ, legal_name="Contested SA")
    open_launch(partner=other_partner, company=company, reference="RH-000777")
    response = post_check(alice_client, CNPJ_FORMATTED)
    html = response.content.decode()
    assert result_of(response) == "unavailable"
    assert action_links(response) == {}
    assert "Another launch request" in html
    assert other_partner.name not in html
    assert "RH-000777" not in html
    assert "Contested SA" not in html


def test_own_open_launch_links_to_the_request(alice_client, bob, partner):
    company = CompanyFactory(tax_id=CNPJ)
    open_launch(partner=partner, company=company, reference="RH-000042")
    response = post_check(alice_client, CNPJ_BRANCH)
    html = response.content.decode()
    assert result_of(response) == "unavailable"
    assert action_links(response) == {}
    assert 'href="/requests/RH-000042/"' in html
    assert "already has an open launch request" in html


@pytest.mark.parametrize("status", [RequestStatus.LOST, RequestStatus.EXPIRED, RequestStatus.WON])
def test_closed_launch_of_another_partner_does_not_protect(alice_client, other_partner, status):
    company = CompanyFactory(tax_id=CNPJ)
    open_launch(partner=other_partner, company=company, status=status)
    assert result_of(post_check(alice_client, CNPJ)) == "available"


# --- Invalid and bad input --------------------------------------------------------------------


def test_wrong_check_digit_is_invalid_and_tied_to_the_tax_id_field(alice_client):
    response = post_check(alice_client, "16.727.230/0001-98")
    html = response.content.decode()
    assert result_of(response) == "invalid"
    assert action_links(response) == {}
    assert "The check digit is wrong." in html
    tax_input = re.search(r'<input[^>]*name="tax_id"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in tax_input
    assert "check-result-message" in tax_input
    assert 'value="16.727.230/0001-98"' in tax_input  # kept for correction
    entry = EligibilityCheck.objects.get()
    assert (entry.result, entry.reason, entry.tax_id) == ("invalid", "invalid_checksum", "")


def test_empty_tax_id_asks_for_one(alice_client):
    response = post_check(alice_client, "   ")
    assert result_of(response) == "invalid"
    assert "Please enter the Tax ID." in response.content.decode()


def test_missing_fields_do_not_crash(alice_client):
    response = alice_client.post(URL, {})
    assert response.status_code == 200
    assert result_of(response) == "invalid"


def test_unsupported_country_is_a_clear_error_on_the_country_field(alice_client):
    response = post_check(alice_client, "123456789", country="ZZ")
    html = response.content.decode()
    assert response.status_code == 200
    assert result_of(response) == "invalid"
    assert "We cannot check Tax IDs for this country yet." in html
    select = re.search(r"<select[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in select
    assert EligibilityCheck.objects.get().reason == "unsupported_country"


def test_generic_mexican_rfc_is_not_a_company(alice_client):
    response = post_check(alice_client, "XAXX-010101-000", country="MX")
    assert result_of(response) == "invalid"
    assert "Generic RFCs" in response.content.decode()


def test_tax_id_from_another_country_is_invalid_there(alice_client):
    # A valid Brazilian CNPJ is not a valid Chilean RUT.
    assert result_of(post_check(alice_client, CNPJ, country="CL")) == "invalid"


def test_huge_tax_id_is_answered_as_too_long_without_echoing_it(alice_client):
    huge = "1" * 100_000
    response = post_check(alice_client, huge)
    html = response.content.decode()
    assert result_of(response) == "invalid"
    assert "The Tax ID is too long." in html
    assert "1" * 65 not in html
    assert len(EligibilityCheck.objects.get().raw_input) == 128


def test_null_character_is_answered_as_an_invalid_check_and_logged(alice_client):
    response = post_check(alice_client, "1672723\x000001")
    assert response.status_code == 200
    assert result_of(response) == "invalid"
    entry = EligibilityCheck.objects.get()
    assert (entry.result, entry.reason, entry.raw_input) == (
        "invalid",
        "invalid_format",
        "16727230001",
    )


def test_too_long_company_name_is_a_field_error(alice_client):
    response = post_check(alice_client, CNPJ, company_name="N" * 300)
    html = response.content.decode()
    assert response.status_code == 200
    assert result_of(response) == ""
    assert 'id="company_name-errors"' in html
    assert "at most 255 characters" in html
    assert not EligibilityCheck.objects.exists()


def test_markup_in_inputs_is_shown_as_text(alice_client):
    response = post_check(alice_client, "<script>x</script>", company_name="<b>Evil</b>")
    html = response.content.decode()
    assert result_of(response) == "invalid"
    assert "<script>x</script>" not in html
    assert "<b>Evil</b>" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html


# --- Recent checks ----------------------------------------------------------------------------


def test_recent_checks_list_own_checks_with_a_check_again_link(alice_client):
    post_check(alice_client, CNPJ_FORMATTED, company_name="Initech")
    html = alice_client.get(URL).content.decode()
    table = re.search(r'<table[^>]*data-testid="recent-checks".*?</table>', html, re.S).group(0)
    assert CNPJ_FORMATTED in table
    assert "Initech" in table
    assert "Available" in table
    href = unescape(re.search(r'href="([^"]*)"[^>]*>Check again', table).group(1))
    assert query_of(href) == {"country": ["BR"], "tax_id": [CNPJ], "company_name": ["Initech"]}


def test_recent_checks_show_at_most_ten(alice_client):
    for n in range(12):
        post_check(alice_client, f"bad-{n:02d}")
    table = alice_client.get(URL).content.decode().split('data-testid="recent-checks"')[1]
    assert table.count("Check again") == 10
    assert "bad-11" in table
    assert "bad-00" not in table


def test_other_users_never_see_my_checks(alice_client, client, charlie, bob):
    post_check(alice_client, CNPJ, company_name="Secret Target")
    for other in (charlie, bob):
        client.force_login(other)
        html = client.get(URL).content.decode()
        assert "Secret Target" not in html
        assert CNPJ not in html
        assert CNPJ_FORMATTED not in html


def test_result_shows_the_country_and_the_tax_id_as_people_write_it(alice_client):
    response = post_check(alice_client, CNPJ, company_name="  Initech  ")
    shown = re.search(r'data-testid="checked-company">(.*?)</p>', response.content.decode(), re.S)
    assert "Brazil" in shown.group(1)
    assert CNPJ_FORMATTED in shown.group(1)
    assert query_of(action_links(response)["launch"])["company_name"] == ["Initech"]


@pytest.mark.parametrize(
    "country", ["ZZ", "<script>alert(1)</script>", "Z" * 5000, "' OR 1=1 --", "ＢＲ", "B R"]
)
def test_unknown_country_is_a_clear_error_and_logged_as_unsupported(alice_client, country):
    response = post_check(alice_client, CNPJ, country=country)
    html = response.content.decode()
    assert response.status_code == 200
    assert result_of(response) == "invalid"
    assert "We cannot check Tax IDs for this country yet." in html
    assert 'id="country-answer"' in html
    assert "<script>alert(1)</script>" not in html and "Z" * 100 not in html
    entry = EligibilityCheck.objects.get()
    assert (entry.result, entry.reason) == ("invalid", "unsupported_country")
    assert entry.country == country.upper()[:8]


BAD_TAX_IDS = [
    ("", "empty"),
    ("1" * 10_000, "too_long"),
    ("16.727.230/0001-9O", "invalid_checksum"),  # a letter O instead of a zero
    ("16.727.230/ООО1-97", "invalid_format"),  # Cyrillic О (U+041E) that looks like a zero
    ("'; DROP TABLE eligibility_company; --", "invalid_format"),
    ("1 OR 1=1", "invalid_format"),
    ("<script>alert('x')</script>", "invalid_format"),
    ("<img src=x onerror=alert(1)>", "invalid_format"),
    ("{{ 7|add:7 }}", "invalid_format"),
    ("MAB9307148T4", "invalid_length"),  # a Mexican RFC is not a Brazilian CNPJ
    ("12345678", "invalid_length"),
]


@pytest.mark.parametrize(("typed", "reason"), BAD_TAX_IDS)
def test_bad_tax_ids_get_a_message_on_the_field_and_are_logged_as_invalid(
    alice_client, typed, reason
):
    response = post_check(alice_client, typed)
    html = response.content.decode()
    assert response.status_code == 200
    assert result_of(response) == "invalid"
    answer = re.search(r'<div class="invalid-feedback" id="tax_id-answer">(.*?)</div>', html)
    assert answer and answer.group(1).strip()
    tax_input = re.search(r'<input[^>]*name="tax_id"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in tax_input and "tax_id-answer" in tax_input
    # Whatever was typed is shown as text, never run as markup or template code.
    assert "<script>alert" not in html and "<img src=x" not in html and ">14<" not in html
    entry = EligibilityCheck.objects.get()
    assert (entry.result, entry.reason, entry.tax_id) == ("invalid", reason, "")
    assert Company.objects.count() == 0


def test_fullwidth_digits_are_the_same_tax_id(alice_client):
    CompanyFactory(tax_id=CNPJ, blocked=True)
    response = post_check(alice_client, "１６.７２７.２３０/０００１-９７")
    assert result_of(response) == "unavailable"


def test_staff_without_a_partner_is_told_why(staff_client):
    response = staff_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 403
    assert "Eligibility checks are for partner users" in html
    assert "/admin/eligibility/company/" in html
    assert html.count("<h1") == 1


def test_other_partner_is_never_named_on_the_page(alice_client, other_partner, products):
    """Globex pays for one client's plan and holds an open launch on another company."""
    paid_by_globex = client_company()
    SubscriptionFactory(
        company=paid_by_globex, product=products["gym"], paid_by_partner=other_partner
    )
    launched_by_globex = CompanyFactory(tax_id=OTHER_CNPJ)
    open_launch(partner=other_partner, company=launched_by_globex, reference="RH-000900")
    for tax_id in (CNPJ, OTHER_CNPJ):
        html = post_check(alice_client, tax_id).content.decode()
        assert "Globex" not in html
        assert "RH-000900" not in html
    assert "paid through a partner" in post_check(alice_client, CNPJ).content.decode()


def _surround(company, *, partner, other_partner, start, count):
    """More products and subscriptions for the company, more requests around it."""
    for n in range(start, start + count):
        product = ProductFactory()
        if company is not None:
            SubscriptionFactory(
                company=company, product=product, paid_by_partner=other_partner if n % 2 else None
            )
            open_launch(
                partner=other_partner,
                company=company,
                status=RequestStatus.LOST,
                reference=f"RH-{n + 5000:06d}",
            )
        other = CompanyFactory()
        open_launch(partner=partner, company=other, reference=f"RH-{n + 1000:06d}")


@pytest.mark.parametrize(
    ("kind", "result"),
    [
        ("available", "available"),
        ("client", "client"),
        ("blocked", "unavailable"),
        ("protected", "unavailable"),
        ("own", "unavailable"),
        ("invalid", "invalid"),
    ],
)
def test_each_answer_costs_a_small_constant_number_of_queries(
    alice_client, partner, other_partner, products, kind, result, django_assert_max_num_queries
):
    company = None
    tax_id = "16.727.230/0001-98" if kind == "invalid" else CNPJ
    if kind != "invalid":
        status = {"client": "client", "blocked": "blocked"}.get(kind, "prospect")
        company = CompanyFactory(tax_id=CNPJ, status=status)
    if kind in ("protected", "own"):
        owner = partner if kind == "own" else other_partner
        open_launch(partner=owner, company=company, reference="RH-000999")
    _surround(company, partner=partner, other_partner=other_partner, start=0, count=1)
    post_check(alice_client, tax_id)  # the session is loaded once
    with CaptureQueriesContext(connection) as small:
        with django_assert_max_num_queries(10):
            assert result_of(post_check(alice_client, tax_id)) == result

    _surround(company, partner=partner, other_partner=other_partner, start=1, count=30)
    for _ in range(15):
        post_check(alice_client, "1")  # a long check history
    with CaptureQueriesContext(connection) as large:
        assert result_of(post_check(alice_client, tax_id)) == result
    assert len(large.captured_queries) == len(small.captured_queries)
