"""Real-browser journeys of the bulk check: upload and download, and the live progress bar."""

import re

import pytest
from playwright.sync_api import expect

from bulk.models import BulkCheckJob
from tests.browser_helpers import sign_in, watch_csp
from tests.bulk.bulk_helpers import csv_bytes
from tests.bulk.conftest import BLOCKED, CLIENT, PROSPECT
from tests.factories import BulkCheckJobFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_partner_uploads_a_file_and_downloads_the_report(page, alice, registry):
    csp_errors = watch_csp(page)
    sign_in(page, alice)
    page.get_by_role("link", name="Bulk check").first.click()
    page.wait_for_url(re.compile(r"/eligibility/bulk/$"))

    with page.expect_download() as template:
        page.get_by_role("link", name="Download the template").click()
    assert template.value.suggested_filename == "bulk-check-template.csv"

    data = csv_bytes([{"tax_id": CLIENT}, {"tax_id": PROSPECT}, {"tax_id": BLOCKED}])
    page.get_by_label("CSV file").set_input_files(
        {"name": "my companies.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_label("What to do").select_option("check")
    page.get_by_role("button", name="Upload and check").click()

    job = page.locator('[data-testid="bulk-job"]').first
    # Tasks run in-process here, so the job is done by the time the page comes back.
    expect(job).to_have_attribute("data-job-status", "done")
    expect(page.get_by_role("status")).to_contain_text("is queued: 3 rows")
    expect(job.locator('[data-result="client"]')).to_contain_text("1")
    with page.expect_download() as report:
        job.get_by_role("link", name=re.compile("Download the report")).click()
    content = open(report.value.path(), encoding="utf-8-sig").read()
    assert content.splitlines()[0].endswith("result,reason,request_reference")
    assert ",client," in content
    assert csp_errors == []


def test_a_bad_file_is_refused_on_the_page(page, alice):
    sign_in(page, alice)
    page.goto("/eligibility/bulk/")
    page.get_by_label("CSV file").set_input_files(
        {
            "name": "book.xlsx",
            "mimeType": "application/octet-stream",
            "buffer": b"PK\x03\x04 not really a workbook",
        }
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator('[data-testid="bulk-file-errors"]')).to_contain_text("Excel workbook")
    assert not BulkCheckJob.objects.exists()


def test_progress_updates_live_and_polling_stops_when_done(page, alice):
    job = BulkCheckJobFactory(
        partner=alice.partner,
        created_by=alice,
        filename="live.csv",
        status=BulkCheckJob.Status.RUNNING,
        total_rows=10,
        processed_rows=3,
    )
    csp_errors = watch_csp(page)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/fragment/" in r.url else None)
    # htmx polls on the page's timers; with the clock installed (time still flows) the test
    # can run polling periods at once instead of sleeping through them.
    page.clock.install()
    sign_in(page, alice)
    page.goto("/eligibility/bulk/")
    element = page.locator(f"#bulk-job-{job.pk}")
    expect(element).to_have_attribute("data-job-status", "running")
    expect(element.locator("progress")).to_have_attribute("value", "3")

    BulkCheckJob.objects.filter(pk=job.pk).update(processed_rows=7)
    expect(element.locator("progress")).to_have_attribute("value", "7", timeout=6000)

    BulkCheckJob.objects.filter(pk=job.pk).update(
        status=BulkCheckJob.Status.DONE,
        processed_rows=10,
        counts={"available": 10},
        report_data=b"\xef\xbb\xbftax_id,result,reason,request_reference\r\n",
    )
    expect(element).to_have_attribute("data-job-status", "done", timeout=6000)
    expect(element.get_by_role("link", name=re.compile("Download the report"))).to_be_visible()
    seen = len(polls)
    page.evaluate(
        "window.fragmentRequests = 0;"
        "document.body.addEventListener('htmx:beforeRequest', () => window.fragmentRequests++)"
    )
    page.clock.run_for(4500)  # past the next poll (a live card would ask once), at once
    assert page.evaluate("window.fragmentRequests") == 0, "a finished job is not polled any more"
    assert len(polls) == seen
    assert csp_errors == []
