"""The single check answered in place: /eligibility/check/ posted by the page's own script (htmx).

An htmx POST answers with the panel (form and answer) and, out of band, the new line of the
user's recent checks; a plain POST still gets the whole page.
"""

import re
import time
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from core.countries import SUPPORTED_COUNTRIES
from eligibility.forms import country_options
from eligibility.models import Company, EligibilityCheck
from tests.factories import PartnerFactory, UserFactory

URL = "/eligibility/check/"
LOGIN_PATH = "/accounts/login/"
HTMX = {"HX-Request": "true", "HX-Target": "check-answer"}

CNPJ = "16727230000197"
CNPJ_FORMATTED = "16.727.230/0001-97"
BAD_CNPJ_FORMATTED = "16.727.230/0001-98"
OTHER_CNPJ = "11222333000181"
OTHER_CNPJ_FORMATTED = "11.222.333/0001-81"

OOB_LINE = re.compile(
    r'<template><tbody hx-swap-oob="afterbegin:#recent-checks-rows">(.*?)</tbody></template>',
    re.S,
)
LOG_TABLE = EligibilityCheck._meta.db_table


def htmx_check(client, tax_id, country="BR", company_name=""):
    return client.post(
        URL, {"country": country, "tax_id": tax_id, "company_name": company_name}, headers=HTMX
    )


def plain_check(client, tax_id, country="BR", company_name=""):
    return client.post(URL, {"country": country, "tax_id": tax_id, "company_name": company_name})


def result_of(html: str) -> str:
    found = re.findall(r'data-eligibility="([a-z]+)"', html)
    assert len(found) <= 1, "one answer at most"
    return found[0] if found else ""


class _Row(HTMLParser):
    """The cells of table rows as text, and the tags of their links with their attributes."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[dict[str, str | None]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif tag == "a":
            self.links.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse_rows(html: str) -> _Row:
    parser = _Row()
    parser.feed(html)
    parser.close()
    return parser


def new_line(html: str) -> _Row:
    """The one out-of-band recent line of an htmx answer, parsed."""
    lines = OOB_LINE.findall(html)
    assert len(lines) == 1, f"expected one out-of-band line, got {len(lines)}"
    line = parse_rows(lines[0])
    assert len(line.rows) == 1
    return line


def recent_table(html: str) -> _Row:
    table = re.search(r'<tbody id="recent-checks-rows"[^>]*>(.*?)</tbody>', html, re.S)
    return parse_rows(table.group(1))


def check_again_query(line: _Row) -> dict[str, list[str]]:
    (link,) = line.links
    href = link["href"]
    assert urlsplit(href).path == URL
    return parse_qs(urlsplit(href).query)


def end_sessions() -> None:
    """End every session on the server side (database and the cache in front of it)."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    for key in store.get_model_class().objects.values_list("session_key", flat=True):
        store(session_key=key).delete()


def assert_sent_to_sign_in(response, next_path: str) -> None:
    """An htmx answer that takes the whole window to the sign-in page (no page inside it)."""
    assert response.status_code == 200
    assert "Location" not in response.headers
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == LOGIN_PATH
    assert parse_qs(target.query) == {"next": [next_path]}
    assert response.content == b""


# --- The answer in place ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "typed", "result", "shown_tax_id", "label"),
    [
        (None, CNPJ_FORMATTED, "available", CNPJ_FORMATTED, "Available"),
        ("client", CNPJ, "client", CNPJ_FORMATTED, "Already a client"),
        (None, BAD_CNPJ_FORMATTED, "invalid", BAD_CNPJ_FORMATTED, "Invalid Tax ID"),
    ],
)
def test_htmx_check_answers_with_the_answer_and_one_new_recent_line(
    alice_client, status, typed, result, shown_tax_id, label
):
    if status:
        Company.objects.create(country="BR", tax_id=CNPJ, legal_name="Initech Ltda", status=status)
    response = htmx_check(alice_client, typed, company_name="Initech")
    html = response.content.decode()

    assert "<html" not in html and "<body" not in html
    assert html.count('id="check-result"') == 1
    assert result_of(html) == result
    # The page around the answer, the form included, is not drawn again.
    assert 'data-testid="check-form"' not in html
    assert "<h1" not in html
    assert 'data-testid="recent-checks"' not in html
    assert 'id="recent-checks-empty"' not in html

    line = new_line(html)
    (cells,) = line.rows
    assert cells[1:5] == ["BR", shown_tax_id, "Initech", label]
    assert cells[5] == f"Check again {shown_tax_id}"
    checked = CNPJ if result != "invalid" else BAD_CNPJ_FORMATTED
    assert check_again_query(line) == {
        "country": ["BR"],
        "tax_id": [checked],
        "company_name": ["Initech"],
    }


def test_check_again_link_of_the_new_line_refills_the_form_without_checking(alice_client):
    response = htmx_check(alice_client, CNPJ_FORMATTED, company_name="Initech")
    line = new_line(response.content.decode())
    href = line.links[0]["href"]

    html = alice_client.get(href).content.decode()
    assert re.search(r'<option value="BR" selected>', html)
    assert f'value="{CNPJ}"' in html
    assert 'value="Initech"' in html
    assert result_of(html) == ""
    assert EligibilityCheck.objects.count() == 1  # only the check made above


def test_new_line_without_a_company_name_has_an_empty_name_cell(alice_client):
    line = new_line(htmx_check(alice_client, CNPJ).content.decode())
    assert line.rows[0][3] == ""
    assert check_again_query(line) == {"country": ["BR"], "tax_id": [CNPJ]}


def test_htmx_check_with_an_empty_country_uses_the_partner_home_country(alice_client):
    response = htmx_check(alice_client, CNPJ, country="")
    html = response.content.decode()
    assert result_of(html) == "available"
    assert new_line(html).rows[0][1:3] == ["BR", CNPJ_FORMATTED]


def test_too_long_company_name_through_htmx_is_a_field_error_and_adds_no_line(alice_client):
    response = htmx_check(alice_client, CNPJ, company_name="N" * 300)
    # The whole panel comes back, in place of the panel, so the form shows its error.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#check-panel", "outerHTML")
    html = response.content.decode()
    assert html.count('id="check-panel"') == 1
    company_input = re.search(r'<input[^>]*name="company_name"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in company_input
    assert "company_name-errors" in company_input
    assert "at most 255 characters" in html
    assert result_of(html) == ""
    assert OOB_LINE.findall(html) == []
    assert not EligibilityCheck.objects.exists()


# --- The check log ----------------------------------------------------------------------------


@pytest.mark.parametrize("send", [htmx_check, plain_check], ids=["htmx", "plain"])
def test_each_check_is_logged_exactly_once(alice_client, alice, partner, send):
    send(alice_client, CNPJ_FORMATTED, company_name="Initech")
    entry = EligibilityCheck.objects.get()
    assert (entry.user, entry.partner, entry.source) == (alice, partner, "single")
    assert (entry.country, entry.raw_input, entry.company_name) == ("BR", CNPJ_FORMATTED, "Initech")
    assert (entry.tax_id, entry.result, entry.reason) == (CNPJ, "available", "new_company")

    send(alice_client, BAD_CNPJ_FORMATTED)
    assert EligibilityCheck.objects.count() == 2


# --- Invalid input tied to its field ----------------------------------------------------------


def test_invalid_tax_id_through_htmx_names_the_tax_id_field(alice_client):
    # The page's script marks the field the answer names (see the browser tests).
    html = htmx_check(alice_client, BAD_CNPJ_FORMATTED).content.decode()
    assert result_of(html) == "invalid"
    assert 'data-error-field="tax_id"' in html
    message = re.search(r'<p class="mb-3" id="check-result-message">(.*?)</p>', html)
    assert message.group(1) == "The check digit is wrong."


def test_unsupported_country_through_htmx_names_the_country_field(alice_client):
    html = htmx_check(alice_client, "123456789", country="ZZ").content.decode()
    assert result_of(html) == "invalid"
    assert 'data-error-field="country"' in html
    message = re.search(r'<p class="mb-3" id="check-result-message">(.*?)</p>', html)
    assert message.group(1) == "We cannot check Tax IDs for this country yet."
    assert new_line(html).rows[0][1:5] == ["ZZ", "123456789", "", "Invalid Tax ID"]


def test_a_valid_answer_through_htmx_names_no_field(alice_client):
    html = htmx_check(alice_client, CNPJ).content.decode()
    assert result_of(html) == "available"
    assert 'data-error-field=""' in html


# --- Cost -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "typed", "result", "queries"),
    [
        # the session, the user with the partner, the registry, open launches, the log INSERT
        # (sessions are read from the database: they must not depend on the cache)
        (None, CNPJ, "available", 5),
        # ... and the client's subscriptions with their products, and the partner's own open
        # upsells and takeovers for it (instead of the open launches)
        ("client", CNPJ, "client", 7),
        # the session, the user, the log INSERT
        (None, BAD_CNPJ_FORMATTED, "invalid", 3),
    ],
)
def test_htmx_answer_costs_a_few_queries_and_never_reads_the_recent_checks(
    alice_client, status, typed, result, queries, django_assert_num_queries
):
    if status:
        Company.objects.create(country="BR", tax_id=CNPJ, status=status)
    htmx_check(alice_client, typed)  # the session is loaded and stamped once
    for n in range(15):  # a long history that the answer must not read
        htmx_check(alice_client, f"bad-{n}")

    with django_assert_num_queries(queries) as captured:
        assert result_of(htmx_check(alice_client, typed).content.decode()) == result

    statements = [query["sql"] for query in captured.captured_queries]
    on_the_log = [sql for sql in statements if LOG_TABLE in sql]
    assert len(on_the_log) == 1
    assert on_the_log[0].startswith(f'INSERT INTO "{LOG_TABLE}"')
    assert not any(sql.lstrip().upper().startswith("SELECT") for sql in on_the_log)


def test_plain_post_still_reads_the_recent_checks(alice_client, django_assert_max_num_queries):
    plain_check(alice_client, CNPJ)
    with django_assert_max_num_queries(10) as captured:
        plain_check(alice_client, CNPJ)
    selects = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT") and LOG_TABLE in query["sql"]
    ]
    assert len(selects) == 1


# --- The page without script ------------------------------------------------------------------


def test_plain_post_shows_the_whole_page_with_the_new_check_first(alice_client):
    plain_check(alice_client, OTHER_CNPJ, company_name="Older Co")
    response = plain_check(alice_client, CNPJ_FORMATTED, company_name="Initech")
    html = response.content.decode()

    assert "<html" in html and html.count("<h1") == 1
    assert result_of(html) == "available"
    assert "hx-swap-oob" not in html
    assert re.search(r'<div class="table-responsive">\s*<table', html)  # shown, not hidden
    assert re.search(r'<p class="text-secondary" id="recent-checks-empty" hidden>', html)
    table = recent_table(html)
    assert [row[1:5] for row in table.rows] == [
        ["BR", CNPJ_FORMATTED, "Initech", "Available"],
        ["BR", OTHER_CNPJ_FORMATTED, "Older Co", "Available"],
    ]
    assert parse_qs(urlsplit(table.links[0]["href"]).query)["tax_id"] == [CNPJ]


def test_first_visit_shows_the_empty_message_and_hides_the_table(alice_client):
    html = alice_client.get(URL).content.decode()
    assert re.search(r'<div class="table-responsive" hidden>', html)
    assert re.search(r'<p class="text-secondary" id="recent-checks-empty">', html)
    assert re.search(r'<tbody id="recent-checks-rows" data-limit="10">\s*</tbody>', html)


# --- Whose data -------------------------------------------------------------------------------


def test_new_line_never_shows_another_users_check(alice_client, client, bob, charlie):
    htmx_check(alice_client, CNPJ, company_name="Secret Target")
    for other, name in ((bob, "Bob Co"), (charlie, "Charlie Co")):
        client.force_login(other)
        html = htmx_check(client, OTHER_CNPJ, company_name=name).content.decode()
        assert "Secret Target" not in html
        assert CNPJ not in html and CNPJ_FORMATTED not in html
        assert new_line(html).rows[0][2:4] == [OTHER_CNPJ_FORMATTED, name]


HOSTILE_NAME = "\"><script>alert('x')</script> & 'Co'"


def test_hostile_company_name_is_text_in_the_row_and_in_the_link(alice_client):
    html = htmx_check(alice_client, CNPJ, company_name=HOSTILE_NAME).content.decode()
    assert "<script" not in html
    line = new_line(html)
    assert line.rows[0][3] == " ".join(HOSTILE_NAME.split())
    (link,) = line.links
    assert set(link) == {"href"}  # the quote did not open a new attribute
    assert check_again_query(line)["company_name"] == [HOSTILE_NAME]


def test_hostile_tax_id_is_text_in_the_row_and_in_the_link(alice_client):
    typed = '"><img src=x onerror=alert(1)>'
    html = htmx_check(alice_client, typed).content.decode()
    assert "<img" not in html
    line = new_line(html)
    assert line.rows[0][2] == typed
    assert line.rows[0][4] == "Invalid Tax ID"
    (link,) = line.links
    assert set(link) == {"href"}
    assert check_again_query(line)["tax_id"] == [typed]


# --- Signed out, refused ----------------------------------------------------------------------


def test_anonymous_htmx_post_sends_the_window_to_sign_in_and_checks_nothing(client, db):
    response = htmx_check(client, CNPJ)
    assert_sent_to_sign_in(response, URL)
    assert not EligibilityCheck.objects.exists()


def test_anonymous_plain_post_gets_an_ordinary_redirect(client, db):
    response = plain_check(client, CNPJ)
    assert response.status_code == 302
    assert "HX-Redirect" not in response.headers
    target = urlsplit(response["Location"])
    assert target.path == LOGIN_PATH
    assert parse_qs(target.query) == {"next": [URL]}
    assert not EligibilityCheck.objects.exists()


@pytest.mark.parametrize("path", [URL, "/requests/", "/eligibility/bulk/"])
def test_htmx_get_of_a_page_that_redirects_gets_a_client_redirect(client, db, path):
    assert_sent_to_sign_in(client.get(path, headers=HTMX), path)


def test_htmx_get_of_a_url_without_its_slash_gets_a_client_redirect(alice_client):
    response = alice_client.get(URL.rstrip("/"), headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == URL


def test_htmx_check_after_the_session_ended_sends_the_window_to_sign_in(alice_client):
    alice_client.get(URL)
    end_sessions()
    assert_sent_to_sign_in(htmx_check(alice_client, CNPJ), URL)
    assert not EligibilityCheck.objects.exists()


def leave_idle_too_long(client) -> None:
    """Make the client's session look idle for longer than the idle limit."""
    client.get(URL)
    session = client.session
    session["_last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 60
    session.save()


def test_htmx_check_after_the_idle_timeout_sends_the_window_to_sign_in(alice_client):
    leave_idle_too_long(alice_client)
    assert_sent_to_sign_in(htmx_check(alice_client, CNPJ), URL)
    assert not EligibilityCheck.objects.exists()


def test_client_redirect_keeps_the_cookies_of_the_redirect(alice_client):
    leave_idle_too_long(alice_client)
    response = htmx_check(alice_client, CNPJ)
    assert response["HX-Redirect"].startswith(LOGIN_PATH)
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    # The headers the other middleware put on the redirect stay too.
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Location" not in response.headers


def test_staff_without_a_partner_gets_the_refusal_page_through_htmx(staff_client):
    response = htmx_check(staff_client, CNPJ)
    assert response.status_code == 403
    assert "HX-Redirect" not in response.headers
    html = response.content.decode()
    assert "Eligibility checks are for partner users" in html
    assert "does not belong to one" in html
    assert result_of(html) == "" and "hx-swap-oob" not in html
    assert not EligibilityCheck.objects.exists()


def test_user_of_a_paused_partner_gets_the_refusal_page_through_htmx(alice_client, partner):
    partner.is_active = False
    partner.save()
    response = htmx_check(alice_client, CNPJ)
    assert response.status_code == 403
    html = response.content.decode()
    assert "access to the Reseller Hub is paused" in html
    assert result_of(html) == "" and "hx-swap-oob" not in html
    assert not EligibilityCheck.objects.exists()


# --- The country list -------------------------------------------------------------------------


def selected_values(options: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)" selected>', options)


def test_country_options_mark_the_selected_country(db):
    assert selected_values(country_options("MX")) == ["MX"]
    assert selected_values(country_options("BR")) == ["BR"]  # the cache keeps them apart


def test_country_options_list_each_supported_country_once(db):
    options = country_options("BR")
    values = re.findall(r'<option value="([^"]*)"', options)
    assert sorted(values) == sorted(SUPPORTED_COUNTRIES)
    assert "Brazil" in options and "United Kingdom" in options


@pytest.mark.parametrize(
    "country", ["", "ZZ", "br", "<script>alert(1)</script>", "Z" * 5000, '" selected x="']
)
def test_country_options_mark_nothing_for_an_unknown_country_and_do_not_echo_it(db, country):
    options = country_options(country)
    assert selected_values(options) == []
    assert options.count("selected") == 0
    if country:
        assert country not in options
    assert len(re.findall(r"<option ", options)) == len(SUPPORTED_COUNTRIES)


@pytest.mark.parametrize("country", ["<script>alert(1)</script>", "Z" * 5000])
def test_hostile_country_through_htmx_is_not_echoed(alice_client, country):
    html = htmx_check(alice_client, CNPJ, country=country).content.decode()
    assert result_of(html) == "invalid"
    assert 'data-error-field="country"' in html
    assert "<script>alert(1)" not in html and "Z" * 100 not in html


def test_home_country_of_the_partner_is_checked_on_a_htmx_answer(client, db):
    client.force_login(UserFactory(partner=PartnerFactory(home_country="MX")))
    html = htmx_check(client, "GODE561231GR8", country="").content.decode()
    assert "Mexico" in re.search(r'data-testid="checked-company">(.*?)</p>', html, re.S).group(1)
    assert unescape(new_line(html).rows[0][1]) == "MX"
