"""The job page lists the rows: result, reason, request; launches from a check-only job."""

import re

import pytest

from bulk.models import BulkCheckJob
from bulk.rows import ROWS_PER_PAGE
from bulk.services import start_bulk_check
from bulk.worker import process_bulk_job
from requests_app.models import PartnerRequest, RequestStatus
from tests.bulk.bulk_helpers import cnpj, csv_bytes, launch_row
from tests.bulk.conftest import BLOCKED, CLIENT, NEW_COMPANY, PROSPECT
from tests.factories import CompanyFactory, PartnerRequestFactory


def run(user, rows, mode="check"):
    job = start_bulk_check(user=user, filename="rows.csv", data=csv_bytes(rows), mode=mode)
    process_bulk_job(job_id=job.pk)
    job.refresh_from_db()
    return job


def page_rows(html):
    return re.findall(r'<tr data-row-result="(\w+)" data-line="(\d*)"', html)


def test_each_row_is_listed_with_its_line_tax_id_result_and_reason(alice_client, alice, registry):
    job = run(
        alice,
        [{"tax_id": PROSPECT, "company_name": "Prospect Co"}, {"tax_id": CLIENT}, {"tax_id": "x1"}],
    )
    html = alice_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert page_rows(html) == [("available", "2"), ("client", "3"), ("invalid", "4")]
    assert "33.333.333/0001-" in html and "Prospect Co" in html
    assert "already a Wellhub client" in html


def test_rows_filter_by_result_and_page_by_a_hundred(alice_client, alice, registry):
    rows = [{"tax_id": cnpj(60_000_000 + n)} for n in range(ROWS_PER_PAGE + 5)]
    rows.append({"tax_id": BLOCKED})
    job = run(alice, rows)
    first = alice_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert len(page_rows(first)) == ROWS_PER_PAGE
    second = alice_client.get(f"/eligibility/bulk/{job.pk}/?page=2").content.decode()
    assert [line for _, line in page_rows(second)][-1] == str(ROWS_PER_PAGE + 7)
    assert len(page_rows(second)) == 6
    only = alice_client.get(f"/eligibility/bulk/{job.pk}/?result=unavailable").content.decode()
    assert page_rows(only) == [("unavailable", str(ROWS_PER_PAGE + 7))]
    odd = alice_client.get(f"/eligibility/bulk/{job.pk}/?result=bogus&page=999")
    assert odd.status_code == 200 and len(page_rows(odd.content.decode())) == 6


def test_the_page_costs_the_same_queries_whatever_the_number_of_rows(
    alice_client, alice, registry, django_assert_max_num_queries
):
    small = run(alice, [launch_row(PROSPECT)], mode="check_and_launch")
    big = run(
        alice,
        [launch_row(cnpj(70_000_000 + n)) for n in range(150)],
        mode="check_and_launch",
    )
    alice_client.get(f"/eligibility/bulk/{small.pk}/")
    with django_assert_max_num_queries(12) as few:
        alice_client.get(f"/eligibility/bulk/{small.pk}/")
    with django_assert_max_num_queries(12) as many:
        alice_client.get(f"/eligibility/bulk/{big.pk}/")
    assert len(few.captured_queries) == len(many.captured_queries)


def test_check_and_launch_says_what_was_launched_and_what_was_skipped_and_why(
    alice_client, alice, registry
):
    job = run(
        alice,
        [
            launch_row(PROSPECT),
            launch_row(NEW_COMPANY, contact_email=""),
            launch_row(cnpj(33_333_333, "0002")),  # a branch of the launched prospect
        ],
        mode="check_and_launch",
    )
    html = alice_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert "1 row was launched" in html
    assert "1 available row was not launched because its contact" in html
    assert "1 row was not launched because an earlier line" in html
    launch = PartnerRequest.objects.get(bulk_job=job)
    assert f'href="/requests/{launch.reference}/"' in html
    assert "contact_email" in html  # the skipped row's reason says what is missing


def test_another_partners_job_page_is_not_found(charlie_client, alice, registry):
    job = run(alice, [{"tax_id": PROSPECT}])
    assert charlie_client.get(f"/eligibility/bulk/{job.pk}/").status_code == 404


# --- Launching the available rows of a check-only job -------------------------------------


@pytest.fixture
def launch_available(on_commit):
    def post(client, job):
        with on_commit():  # the new job is processed once the upload commits
            return client.post("/eligibility/bulk/", {"mode": "launch_available", "job": job.pk})

    return post


def test_premium_partner_launches_a_check_only_jobs_available_rows_with_contact_data(
    alice_client, alice, registry, mailoutbox, settings, launch_available
):
    job = run(
        alice,
        [
            launch_row(PROSPECT),
            launch_row(NEW_COMPANY, contact_name=""),  # available, no contact: left out
            launch_row(CLIENT),
        ],
    )
    html = alice_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert 'value="launch_available"' in html
    response = launch_available(alice_client, job)
    assert response.status_code == 302
    launched = BulkCheckJob.objects.exclude(pk=job.pk).get()
    assert launched.mode == "check_and_launch" and launched.total_rows == 1
    (launch,) = PartnerRequest.objects.all()
    assert launch.status == RequestStatus.PENDING_APPROVAL and launch.bulk_job == launched
    assert launch.contact_phone == "+55 11 3456-7890"  # the row as it was written
    assert any(settings.DEALDESK_EMAIL in mail.to for mail in mailoutbox)


def test_each_row_is_decided_again_when_launched(
    alice_client, alice, charlie, registry, launch_available
):
    job = run(alice, [launch_row(NEW_COMPANY)])
    PartnerRequestFactory(partner=charlie.partner, company=CompanyFactory(tax_id=NEW_COMPANY))
    launch_available(alice_client, job)
    launched = BulkCheckJob.objects.exclude(pk=job.pk).get()
    assert launched.counts["unavailable"] == 1 and launched.launched_count == 0
    assert not PartnerRequest.objects.filter(partner=alice.partner).exists()


def test_without_contact_data_nothing_is_launched_and_the_page_says_why(
    alice_client, alice, registry, launch_available
):
    job = run(alice, [{"tax_id": PROSPECT}])
    response = launch_available(alice_client, job)
    assert BulkCheckJob.objects.count() == 1
    page = alice_client.get(response["Location"]).content.decode()
    assert "None of the available rows has complete contact data" in page


def test_a_standard_partner_is_refused_and_not_offered(
    charlie_client, charlie, registry, launch_available
):
    job = run(charlie, [launch_row(PROSPECT)])
    html = charlie_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert 'value="launch_available"' not in html
    launch_available(charlie_client, job)
    assert BulkCheckJob.objects.count() == 1 and not PartnerRequest.objects.exists()


def test_another_partners_job_cannot_be_launched(charlie_client, alice, registry, launch_available):
    job = run(alice, [launch_row(PROSPECT)])
    assert launch_available(charlie_client, job).status_code == 404


@pytest.mark.parametrize("mode", ["check_and_launch"])
def test_a_launch_job_is_not_offered_again(alice_client, alice, registry, mode, launch_available):
    job = run(alice, [launch_row(NEW_COMPANY)], mode=mode)
    html = alice_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert 'value="launch_available"' not in html
    launch_available(alice_client, job)
    assert BulkCheckJob.objects.count() == 1
