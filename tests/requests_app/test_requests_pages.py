"""The partner's request pages: list, filters, pagination, detail, isolation and query counts."""

import re

import pytest

from requests_app.models import RequestKind, RequestStatus
from requests_app.status import change_status
from tests.factories import CompanyFactory
from tests.requests_app.requests_helpers import CLIENT_CNPJ, PROSPECT_CNPJ, make_request

LIST = "/requests/"


def references(body: str) -> list[str]:
    return re.findall(r'<tr data-reference="(RH-\d+)"', body)


@pytest.fixture
def mixed(partner, other_partner, alice, bob, charlie, prospect, client_company):
    return {
        "alice_launch": make_request(partner=partner, company=prospect, created_by=alice),
        "bob_upsell": make_request(
            partner=partner, company=client_company, created_by=bob, kind=RequestKind.UPSELL
        ),
        "alice_won": make_request(
            partner=partner, company=CompanyFactory(), created_by=alice, status=RequestStatus.WON
        ),
        "charlie_launch": make_request(
            partner=other_partner, company=CompanyFactory(), created_by=charlie
        ),
    }


def test_list_shows_the_whole_partners_requests_and_nobody_elses(alice_client, mixed):
    body = alice_client.get(LIST).content.decode()
    assert set(references(body)) == {
        mixed["alice_launch"].reference,
        mixed["bob_upsell"].reference,
        mixed["alice_won"].reference,
    }
    assert mixed["charlie_launch"].reference not in body
    assert "45.723.174/0001-10" in body  # the company's Tax ID, as people write it


def test_charlie_sees_only_his_own(charlie_client, mixed):
    body = charlie_client.get(LIST).content.decode()
    assert references(body) == [mixed["charlie_launch"].reference]


def test_list_filters_by_status_and_kind(alice_client, mixed):
    body = alice_client.get(LIST, {"status": "won"}).content.decode()
    assert references(body) == [mixed["alice_won"].reference]
    body = alice_client.get(LIST, {"kind": "upsell"}).content.decode()
    assert references(body) == [mixed["bob_upsell"].reference]
    body = alice_client.get(LIST, {"kind": "launch", "status": "submitted"}).content.decode()
    assert references(body) == [mixed["alice_launch"].reference]
    body = alice_client.get(LIST, {"kind": "takeover"}).content.decode()
    assert references(body) == [] and "No requests match these filters" in body


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"kind": "<script>"},
        {"status": ""},
        {"kind": "launch'--"},
        {"status": "won" * 1000},
        {"kind": "LAUNCH"},
    ],
)
def test_bad_filter_values_are_ignored(alice_client, mixed, params):
    response = alice_client.get(LIST, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert len(references(body)) == 3
    assert "<script>" not in body.split("<main", 1)[1].split("</main>")[0]


def test_list_is_paginated_by_25(alice_client, partner):
    for company in CompanyFactory.create_batch(30):
        make_request(partner=partner, company=company)
    first = references(alice_client.get(LIST).content.decode())
    second = references(alice_client.get(LIST, {"page": 2}).content.decode())
    assert len(first) == 25 and len(second) == 5
    assert not set(first) & set(second)


@pytest.mark.parametrize(
    ("page", "expected"), [("abc", 25), ("999", 5), ("-1", 5), ("0", 5), ("1.5", 25), ("", 25)]
)
def test_bad_page_numbers_show_a_real_page(alice_client, partner, page, expected):
    for company in CompanyFactory.create_batch(30):
        make_request(partner=partner, company=company)
    response = alice_client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert len(references(response.content.decode())) == expected


def test_pagination_keeps_the_filters(alice_client, partner):
    for company in CompanyFactory.create_batch(30):
        make_request(partner=partner, company=company, status=RequestStatus.IN_PROGRESS)
    body = alice_client.get(LIST, {"status": "in_progress"}).content.decode()
    assert "?status=in_progress&amp;page=2" in body


def test_empty_list_invites_a_first_check(alice_client):
    body = alice_client.get(LIST).content.decode()
    assert "No requests yet" in body


def _list_queries(client, django_assert_max_num_queries, limit):
    client.get(LIST)  # the first visit also refreshes the session; measure the next one
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_list_costs_the_same_queries_for_3_or_30_requests(
    alice_client, partner, django_assert_max_num_queries
):
    made = CompanyFactory.create_batch(30)
    for company in made[:3]:
        make_request(partner=partner, company=company)
    few = _list_queries(alice_client, django_assert_max_num_queries, 5)
    for company in made[3:]:
        make_request(partner=partner, company=company)
    many = _list_queries(alice_client, django_assert_max_num_queries, 5)
    assert few == many


# --- Detail ---------------------------------------------------------------------------------


def test_detail_shows_everything_a_partner_needs(alice_client, alice, partner, prospect, ae):
    launch = make_request(
        partner=partner,
        company=prospect,
        created_by=alice,
        assigned_ae=ae,
        contact_name="Maria Lima",
        contact_email="maria@newco.example",
        contact_phone="+55 11 91234-5678",
        employee_count=250,
        company_name="Rio Claro",
    )
    change_status(
        request=launch, to_status=RequestStatus.IN_PROGRESS, actor=ae, note="Meeting on Monday"
    )
    body = alice_client.get(f"/requests/{launch.reference}/").content.decode()
    assert f'data-reference="{launch.reference}"' in body
    assert 'data-status="in_progress"' in body and "data-due" not in body
    assert body.count("<h1") == 1
    for text in (
        "Alex Account",
        "Maria Lima",
        "maria@newco.example",
        "+55 11 91234-5678",
        "250",
        "35.068.427/0001-06",
        "Meeting on Monday",
    ):
        assert text in body
    history = re.findall(r'data-event-status="(\w+)"', body)
    assert history == ["submitted", "in_progress"]


def test_detail_of_a_followup_lists_its_products(alice_client, partner, client_company, products):
    upsell = make_request(
        partner=partner, company=client_company, kind=RequestKind.TAKEOVER, due_date="2026-12-04"
    )
    upsell.products.set([products["standard"]])
    body = alice_client.get(f"/requests/{upsell.reference}/").content.decode()
    assert 'data-product="standard"' in body and 'data-due="2026-12-04"' in body


def test_colleague_can_open_the_request(client, bob, mixed):
    client.force_login(bob)
    response = client.get(f"/requests/{mixed['alice_launch'].reference}/")
    assert response.status_code == 200


def test_lower_case_reference_finds_the_request(alice_client, mixed):
    reference = mixed["alice_launch"].reference
    assert alice_client.get(f"/requests/{reference.lower()}/").status_code == 200


def test_another_partners_reference_is_not_found(charlie_client, mixed):
    response = charlie_client.get(f"/requests/{mixed['alice_launch'].reference}/")
    assert response.status_code == 404
    assert mixed["alice_launch"].company.tax_id not in response.content.decode()


@pytest.mark.parametrize(
    "reference",
    [
        "RH-",
        "RH-12",
        "RH-0000001x",
        "XX-000001",
        "1",
        "RH-999999",
        "RH-00000000000000000001",
        "%00",
        "RH-%E2%80%AE000001",
    ],
)
def test_malformed_or_unknown_references_are_not_found(alice_client, mixed, reference):
    assert alice_client.get(f"/requests/{reference}/").status_code == 404


def test_detail_costs_the_same_queries_however_long_the_history(
    alice_client, partner, client_company, products, ae, django_assert_max_num_queries
):
    upsell = make_request(partner=partner, company=client_company, kind=RequestKind.UPSELL)
    upsell.products.set(products.values())
    url = f"/requests/{upsell.reference}/"
    alice_client.get(url)  # the first visit also refreshes the session; measure the next one
    with django_assert_max_num_queries(6) as short:
        alice_client.get(url)
    change_status(request=upsell, to_status=RequestStatus.IN_PROGRESS, actor=ae)
    change_status(request=upsell, to_status=RequestStatus.DECLINED, actor=ae)
    with django_assert_max_num_queries(6) as long:
        alice_client.get(url)
    assert len(short.captured_queries) == len(long.captured_queries)


# --- Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/requests/",
        "/requests/RH-000001/",
        "/requests/new/launch/?country=BR&tax_id=16727230000197",
        "/requests/new/upsell/?country=BR&tax_id=" + CLIENT_CNPJ,
        "/requests/new/takeover/?country=BR&tax_id=" + CLIENT_CNPJ,
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "url", ["/requests/new/launch/", "/requests/new/upsell/", "/requests/new/takeover/"]
)
def test_anonymous_posts_create_nothing(client, db, url):
    response = client.post(url, {"country": "BR", "tax_id": PROSPECT_CNPJ})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_without_partner_has_no_request_pages(client, staff):
    client.force_login(staff)
    assert client.get(LIST).status_code == 403
