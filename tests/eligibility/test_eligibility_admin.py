"""Staff screens: the company registry (with CSV import/export) and the check log."""

import csv
import io

import pytest
from tablib import Dataset

from bulk.csv import report_header
from core.csvfiles import FORMULA_TRIGGERS
from eligibility.models import Company, EligibilityCheck, Product
from eligibility.resources import ProductResource
from eligibility.services import check_company
from tests.factories import (
    CompanyFactory,
    EligibilityCheckFactory,
    ProductFactory,
    SubscriptionFactory,
)

HEADER = "country,tax_id,legal_name,status,products,paid_by"
CHECKS = "/admin/eligibility/eligibilitycheck/"
COMPANIES = "/admin/eligibility/company/"


@pytest.fixture
def products(db):
    return {
        code: ProductFactory(code=code, name=name)
        for code, name in [("wellhub-standard", "Wellhub Standard"), ("wellhub-plus", "Wellhub+")]
    }


def export_csv(client, url, resource_name, columns, params=""):
    data = {"format": "0", "resource": "0"}
    data.update({f"{resource_name}_{column}": "on" for column in columns})
    response = client.post(f"{url}export/{params}", data)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


CHECK_COLUMNS = [
    "created_at",
    "user",
    "partner",
    "source",
    "country",
    "raw_input",
    "company_name",
    "tax_id",
    "result",
    "reason",
]


# --- the check log ---------------------------------------------------------------------------


def test_staff_exports_the_check_log_as_csv(staff_client, alice, charlie):
    check_company(user=alice, country="BR", raw_tax_id="11.222.333/0001-81", company_name="Acme")
    check_company(user=charlie, country="ZZ", raw_tax_id="123")
    rows = export_csv(staff_client, CHECKS, "eligibilitycheckresource", CHECK_COLUMNS)
    got = sorted((r["user"], r["partner"], r["tax_id"], r["result"], r["reason"]) for r in rows)
    assert got == [
        ("alice@acme.example", "Acme Resellers", "11222333000181", "available", "new_company"),
        ("charlie@globex.example", "Globex Partners", "", "invalid", "unsupported_country"),
    ]


def test_exported_log_neutralises_formulas_typed_by_partners(staff_client, alice):
    check_company(user=alice, country="BR", raw_tax_id="=HYPERLINK(1)", company_name="@SUM(A1)")
    (row,) = export_csv(staff_client, CHECKS, "eligibilitycheckresource", CHECK_COLUMNS)
    assert row["raw_input"] == "'=HYPERLINK(1)" and row["company_name"] == "'@SUM(A1)"


@pytest.mark.parametrize("trigger", sorted(FORMULA_TRIGGERS))
def test_exported_log_neutralises_the_same_triggers_as_the_bulk_report(
    staff_client, alice, trigger
):
    name = f"{trigger}cmd|' /C calc'!A0"
    check_company(user=alice, country="BR", raw_tax_id="1", company_name=name)
    (row,) = export_csv(staff_client, CHECKS, "eligibilitycheckresource", CHECK_COLUMNS)
    report = report_header([name], ",").decode("utf-8-sig")
    (report_cell, *_result_columns) = next(csv.reader(io.StringIO(report, newline="")))
    assert row["company_name"] == report_cell == "'" + name


def test_export_follows_the_list_filters(staff_client, alice, charlie):
    check_company(user=alice, country="BR", raw_tax_id="11.222.333/0001-81")
    check_company(user=charlie, country="BR", raw_tax_id="1")
    rows = export_csv(
        staff_client, CHECKS, "eligibilitycheckresource", CHECK_COLUMNS, "?result__exact=invalid"
    )
    assert [r["user"] for r in rows] == ["charlie@globex.example"]


def test_check_log_filters_by_result_partner_and_country(staff_client, alice, charlie):
    check_company(user=alice, country="BR", raw_tax_id="11.222.333/0001-81")
    check_company(user=charlie, country="MX", raw_tax_id="XAXX010101000")
    page = staff_client.get(CHECKS, {"result__exact": "invalid"}).content.decode()
    assert "XAXX010101000" in page and "11.222.333/0001-81" not in page
    page = staff_client.get(CHECKS, {"partner__id__exact": alice.partner_id}).content.decode()
    assert "11.222.333/0001-81" in page and "XAXX010101000" not in page
    page = staff_client.get(CHECKS, {"country": "MX"}).content.decode()
    assert "XAXX010101000" in page and "11.222.333/0001-81" not in page
    page = staff_client.get(CHECKS, {"q": "charlie@globex"}).content.decode()
    assert "XAXX010101000" in page and "11.222.333/0001-81" not in page


def test_check_log_is_read_only(staff_client, alice):
    check_company(user=alice, country="BR", raw_tax_id="11.222.333/0001-81")
    entry = EligibilityCheck.objects.get()
    assert staff_client.get(f"{CHECKS}add/").status_code == 403
    page = staff_client.get(f"{CHECKS}{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert staff_client.post(f"{CHECKS}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    response = staff_client.post(f"{CHECKS}{entry.pk}/change/", {"result": "client"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.result == "available"


def test_check_log_list_costs_the_same_queries_for_many_entries(
    staff_client, alice, charlie, django_assert_max_num_queries
):
    for i in range(5):
        EligibilityCheckFactory(
            user=alice if i % 2 else charlie, raw_input=str(i), result="invalid"
        )
    staff_client.get(CHECKS)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        staff_client.get(CHECKS)
    for i in range(40):
        EligibilityCheckFactory(
            user=alice if i % 2 else charlie, raw_input=str(i), result="invalid"
        )
    with CaptureQueriesContext(connection) as many:
        staff_client.get(CHECKS)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_partner_users_cannot_see_the_check_log(alice_client):
    response = alice_client.get(CHECKS)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- companies and products ------------------------------------------------------------------


def test_company_search_finds_a_tax_id_typed_with_its_formatting(staff_client):
    CompanyFactory(tax_id="11222333000181", legal_name="Found SA")
    CompanyFactory(legal_name="Other SA")
    page = staff_client.get(COMPANIES, {"q": "11.222.333/0001-81"}).content.decode()
    assert "Found SA" in page and "Other SA" not in page
    page = staff_client.get(COMPANIES, {"q": "other"}).content.decode()
    assert "Other SA" in page and "Found SA" not in page


def test_company_list_filters_by_country_and_status(staff_client):
    CompanyFactory(country="BR", legal_name="Brasil SA")
    CompanyFactory(country="MX", legal_name="Mexico SA", blocked=True)
    page = staff_client.get(COMPANIES, {"country": "MX"}).content.decode()
    assert "Mexico SA" in page and "Brasil SA" not in page
    page = staff_client.get(COMPANIES, {"status__exact": "prospect"}).content.decode()
    assert "Brasil SA" in page and "Mexico SA" not in page


def test_staff_adds_a_company_with_a_formatted_tax_id_and_it_is_stored_compact(staff_client):
    response = staff_client.post(
        f"{COMPANIES}add/",
        {
            "country": "BR",
            "tax_id": "11.222.333/0001-81",
            "legal_name": "Nova SA",
            "status": "prospect",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    company = Company.objects.get()
    assert (company.tax_id, company.root) == ("11222333000181", "11222333")


@pytest.mark.parametrize(
    ("country", "tax_id", "field_error"),
    [("BR", "11.222.333/0001-82", "check digit"), ("ZZ", "123", "country")],
)
def test_staff_cannot_add_a_company_with_an_invalid_tax_id(
    staff_client, country, tax_id, field_error
):
    response = staff_client.post(
        f"{COMPANIES}add/",
        {
            "country": country,
            "tax_id": tax_id,
            "legal_name": "Nope",
            "status": "prospect",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and field_error in response.content.decode()
    assert not Company.objects.exists()


def test_staff_cannot_add_the_same_company_twice_with_another_formatting(staff_client):
    CompanyFactory(tax_id="11222333000181")
    response = staff_client.post(
        f"{COMPANIES}add/",
        {
            "country": "BR",
            "tax_id": "11.222.333/0001-81",
            "legal_name": "Again",
            "status": "prospect",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert Company.objects.count() == 1


def test_company_page_lists_its_subscriptions(staff_client, products, partner):
    company = CompanyFactory(client=True)
    SubscriptionFactory(company=company, product=products["wellhub-plus"], paid_by_partner=partner)
    page = staff_client.get(f"{COMPANIES}{company.pk}/change/").content.decode()
    assert "Wellhub+" in page and "Acme Resellers" in page


def test_subscription_list_loads_its_relations_in_one_query(
    staff_client, products, partner, django_assert_max_num_queries
):
    SubscriptionFactory.create_batch(
        30, product=products["wellhub-standard"], paid_by_partner=partner
    )
    with django_assert_max_num_queries(12):
        response = staff_client.get("/admin/eligibility/subscription/")
    assert response.status_code == 200


# --- import/export of the registry -----------------------------------------------------------


def test_company_export_uses_the_import_companies_columns(staff_client, products, partner):
    company = CompanyFactory(tax_id="11222333000181", legal_name="Exported SA", client=True)
    for product in products.values():
        SubscriptionFactory(company=company, product=product, paid_by_partner=partner)
    CompanyFactory(country="MX", legal_name="Prospecto")
    rows = export_csv(staff_client, COMPANIES, "companyresource", HEADER.split(","), "?country=BR")
    assert rows == [
        {
            "country": "BR",
            "tax_id": "11222333000181",
            "legal_name": "Exported SA",
            "status": "client",
            "products": "wellhub-plus|wellhub-standard",
            "paid_by": "Acme Resellers",
        }
    ]


def test_product_resource_round_trips_by_code(db):
    ProductFactory(code="wellhub-plus", name="Old")
    ProductResource().import_data(
        Dataset().load("code,name,is_active\nwellhub-plus,Wellhub+,1\nnew-one,New,0", format="csv"),
        dry_run=False,
    )
    assert list(Product.objects.order_by("code").values_list("code", "name", "is_active")) == [
        ("new-one", "New", False),
        ("wellhub-plus", "Wellhub+", True),
    ]
    exported = ProductResource().export().csv
    assert exported.splitlines()[0] == "code,name,is_active"
