"""The bulk-check pages: template, upload, jobs list with progress, fragment and report."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.test import Client

from bulk.forms import BulkUploadHandler
from bulk.models import BulkCheckJob
from bulk.worker import process_bulk_job
from tests.bulk.bulk_helpers import cnpj, csv_bytes, launch_row
from tests.bulk.conftest import CLIENT, PROSPECT
from tests.factories import BulkCheckJobFactory, UserFactory

URL = "/eligibility/bulk/"
Status = BulkCheckJob.Status


def upload(client, data: bytes, mode="check", name="companies.csv", **extra):
    return client.post(
        URL, {"file": SimpleUploadedFile(name, data, "text/csv"), "mode": mode}, **extra
    )


def make_job(user, status=Status.DONE, **fields) -> BulkCheckJob:
    defaults = {
        "filename": "old.csv",
        "status": status,
        "total_rows": 10,
        "processed_rows": 10 if status == Status.DONE else 3,
        "counts": {"available": 6, "client": 4} if status == Status.DONE else {},
        "report_data": b"\xef\xbb\xbftax_id,result\r\n1,invalid\r\n"
        if status == Status.DONE
        else None,
    }
    return BulkCheckJobFactory(partner=user.partner, created_by=user, **(defaults | fields))


def job_elements(html: str) -> list[str]:
    return re.findall(r'<li class="list-group-item bulk-job"[^>]*>', html)


# --- Template ---------------------------------------------------------------------------------


def test_template_is_a_utf8_csv_attachment_with_the_contract_header(alice_client):
    response = alice_client.get("/eligibility/bulk/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    lines = response.content.decode("utf-8").splitlines()
    assert lines[0] == (
        "\ufeffcountry,tax_id,company_name,contact_name,contact_email,contact_phone,"
        "employee_count,business_model"
    )
    assert len(lines) == 2


def test_template_needs_a_login(client):
    response = client.get("/eligibility/bulk/template.csv")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Jobs page ----------------------------------------------------------------------------------


def test_jobs_page_has_the_form_limits_template_link_and_one_heading(alice_client):
    response = alice_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert '<label class="form-label" for="id_file">' in html
    assert '<label class="form-label" for="id_mode">' in html
    assert 'href="/eligibility/bulk/template.csv"' in html
    assert "50,000 rows" in html
    assert "10.0\xa0MB" in html or "10.0 MB" in html
    assert 'value="check_and_launch"' in html  # Acme is premium


def test_standard_partner_is_not_offered_check_and_launch(charlie_client):
    html = charlie_client.get(URL).content.decode()
    assert 'value="check"' in html
    assert 'value="check_and_launch"' not in html


def test_partner_users_see_all_their_partners_jobs_and_no_one_elses(alice, bob, charlie, client):
    mine = make_job(alice)
    colleagues = make_job(bob, status=Status.RUNNING)
    others = make_job(charlie, status=Status.FAILED, error_message="Something went wrong.")
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert f'id="bulk-job-{mine.pk}"' in html
    assert f'id="bulk-job-{colleagues.pk}"' in html
    assert f'id="bulk-job-{others.pk}"' not in html
    assert "Something went wrong." not in html


def test_each_job_shows_status_progress_counts_and_what_to_do_next(alice, client):
    done = make_job(alice)
    running = make_job(alice, status=Status.RUNNING, mode="check_and_launch", launched_count=2)
    failed = make_job(alice, status=Status.FAILED, error_message="We could not finish it.")
    client.force_login(alice)
    html = client.get(URL).content.decode()
    elements = {int(re.search(r'data-job-id="(\d+)"', e).group(1)): e for e in job_elements(html)}
    assert 'data-job-status="done"' in elements[done.pk]
    assert 'data-job-status="running"' in elements[running.pk]
    assert 'data-job-status="failed"' in elements[failed.pk]
    # Only unfinished jobs poll their fragment.
    assert f'hx-get="/eligibility/bulk/{running.pk}/fragment/"' in elements[running.pk]
    assert 'hx-trigger="every 2s"' in elements[running.pk]
    assert "hx-get" not in elements[done.pk] + elements[failed.pk]
    assert '<progress class="bulk-progress"' in html
    assert 'max="10" value="3"' in html
    assert f'href="/eligibility/bulk/{done.pk}/report.csv"' in html
    assert f'href="/eligibility/bulk/{failed.pk}/report.csv"' not in html
    assert "We could not finish it." in html
    assert 'data-result="available"' in html
    assert 'data-launched="2"' in html


def test_jobs_page_makes_the_same_few_queries_whatever_the_number_of_jobs(
    alice, client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    make_job(alice)
    client.get(URL)  # the session is cached after the first request
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for status in [Status.DONE, Status.RUNNING, Status.FAILED, Status.QUEUED] * 10:
        make_job(alice, status=status)
    with django_assert_num_queries(len(one)):
        response = client.get(URL)
    assert len(job_elements(response.content.decode())) == 41
    assert len(one) <= 8


def test_jobs_list_never_loads_the_stored_files(alice, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_job(alice)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    job_queries = [q["sql"] for q in queries if "bulk_bulkcheckjob" in q["sql"]]
    assert job_queries
    assert not any("input_data" in sql or "report_data" in sql for sql in job_queries)


def test_anonymous_users_are_sent_to_log_in(client, db):
    for response in (client.get(URL), upload(client, csv_bytes([{"tax_id": CLIENT}]))):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert not BulkCheckJob.objects.exists()


def test_staff_without_a_partner_cannot_use_the_page(staff, client):
    client.force_login(staff)
    assert client.get(URL).status_code == 403


# --- Upload -----------------------------------------------------------------------------------


def test_a_good_upload_is_queued_and_the_user_told(alice_client, registry):
    response = upload(alice_client, csv_bytes([{"tax_id": CLIENT}, {"tax_id": PROSPECT}]))
    assert response.status_code == 302
    assert response["Location"] == URL
    job = BulkCheckJob.objects.get()
    assert (job.status, job.total_rows, job.filename, job.mode) == (
        Status.QUEUED,
        2,
        "companies.csv",
        "check",
    )
    html = alice_client.get(URL).content.decode()
    assert "is queued: 2 rows" in html
    assert 'data-job-status="queued"' in html


def test_an_upload_is_processed_after_commit_and_the_report_mailed(
    alice_client, registry, on_commit, mailoutbox
):
    with on_commit():
        upload(alice_client, csv_bytes([{"tax_id": CLIENT}]))
    job = BulkCheckJob.objects.get()
    assert job.status == Status.DONE
    assert len(mailoutbox) == 1


def test_premium_partner_can_upload_check_and_launch(alice_client, registry):
    response = upload(alice_client, csv_bytes([launch_row(PROSPECT)]), mode="check_and_launch")
    assert response.status_code == 302
    assert BulkCheckJob.objects.get().mode == "check_and_launch"


def test_standard_partner_posting_check_and_launch_by_hand_is_refused(charlie_client, registry):
    response = upload(charlie_client, csv_bytes([launch_row(PROSPECT)]), mode="check_and_launch")
    assert response.status_code == 200
    assert "available to premium partners only" in response.content.decode()
    assert not BulkCheckJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00xlsx", "Excel workbook"),
        (b"%PDF-1.4 whatever", "PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "an image"),
        (b"tax_id\r\n123\x00\r\n", "not a text CSV"),
        (b"tax_id\r\nCaf\x81\r\n", "characters we cannot read"),
        (b"country,cnpj\r\nBR,1\r\n", "no tax_id column"),
        (b"country,tax_id\r\n", "no rows"),
        (b"\r\n\r\n", "empty"),
    ],
)
def test_bad_files_are_refused_at_once_with_a_message(alice_client, data, message):
    response = upload(alice_client, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert 'data-testid="bulk-file-errors"' in html
    assert 'aria-describedby="file-errors file-help"' in html
    assert not BulkCheckJob.objects.exists()


def test_no_file_at_all_is_refused(alice_client):
    response = alice_client.post(URL, {"mode": "check"})
    assert "Choose a CSV file" in response.content.decode()
    assert not BulkCheckJob.objects.exists()


def test_an_unknown_mode_is_refused(alice_client):
    response = upload(alice_client, csv_bytes([{"tax_id": CLIENT}]), mode="everything")
    assert response.status_code == 200
    assert not BulkCheckJob.objects.exists()


def test_too_many_rows_are_refused(alice_client, settings):
    settings.BULK_MAX_ROWS = 5
    response = upload(alice_client, csv_bytes([{"tax_id": cnpj(n)} for n in range(6)]))
    assert "more than 5 rows" in response.content.decode()
    assert not BulkCheckJob.objects.exists()


def test_a_file_over_the_byte_limit_is_dropped_by_the_upload_handler(alice_client, settings):
    settings.BULK_MAX_BYTES = 2_000
    data = csv_bytes([{"tax_id": cnpj(n), "company_name": "x" * 50} for n in range(100)])
    assert len(data) > 2_000
    response = upload(alice_client, data)
    assert response.status_code == 200
    assert "larger than 2.0" in response.content.decode()
    assert not BulkCheckJob.objects.exists()


class LazyBody(io.RawIOBase):
    """A multipart body of `size` bytes made on demand; counts how much the server reads."""

    def __init__(self, boundary: str, size: int):
        self.head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="mode"\r\n\r\ncheck\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\ntax_id\r\n"
        ).encode()
        self.size = size
        self.consumed = 0

    def readable(self):
        return True

    def read(self, n=-1):
        n = self.size - self.consumed if n is None or n < 0 else min(n, self.size - self.consumed)
        start, self.consumed = self.consumed, self.consumed + n
        head = self.head[start : start + n]
        return head + b"9" * (n - len(head))


def test_a_huge_upload_is_answered_before_its_body_is_read(alice_client):
    body = LazyBody("XyZ", size=1024**3)  # 1 GB
    response = alice_client.generic(
        "POST",
        URL,
        **{
            "wsgi.input": body,
            "CONTENT_LENGTH": str(body.size),
            "CONTENT_TYPE": "multipart/form-data; boundary=XyZ",
        },
    )
    assert response.status_code == 413
    assert "larger than 10.0" in response.content.decode()
    assert body.consumed == 0
    assert not BulkCheckJob.objects.exists()


def test_the_upload_handler_keeps_at_most_the_limit_in_memory():
    handler = BulkUploadHandler(max_bytes=100_000)
    handler.new_file("file", "big.csv", "text/csv", None)
    chunk = b"9" * 64 * 1024
    handler.receive_data_chunk(chunk, 0)
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(chunk, len(chunk))
    assert handler.too_large
    assert handler.buffer is None
    assert handler.file_complete(2 * len(chunk)) is None


def test_the_upload_handler_ignores_other_file_fields():
    handler = BulkUploadHandler(max_bytes=100)
    with pytest.raises(SkipFile):
        handler.new_file("screenshot", "a.png", "image/png", None)


def test_uploads_need_a_csrf_token(alice, registry):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = upload(client, csv_bytes([{"tax_id": CLIENT}]))
    assert response.status_code == 403
    assert not BulkCheckJob.objects.exists()


# --- Fragment, detail and report --------------------------------------------------------------


def test_fragment_is_the_job_element_of_the_partners_job(alice, bob, client):
    job = make_job(alice, status=Status.RUNNING)
    client.force_login(bob)
    response = client.get(f"/eligibility/bulk/{job.pk}/fragment/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<li class="list-group-item bulk-job"')
    assert 'data-job-status="running"' in html
    assert "<h1" not in html


def test_a_finished_jobs_fragment_stops_the_polling(alice, alice_client):
    job = make_job(alice)
    html = alice_client.get(f"/eligibility/bulk/{job.pk}/fragment/").content.decode()
    assert 'data-job-status="done"' in html
    assert "hx-trigger" not in html


def test_job_detail_page_shows_the_job(alice, alice_client):
    job = make_job(alice)
    html = alice_client.get(f"/eligibility/bulk/{job.pk}/").content.decode()
    assert html.count("<h1") == 1
    assert 'data-job-status="done"' in html


def test_report_downloads_for_users_of_the_same_partner(alice, bob, client):
    job = make_job(alice)
    client.force_login(bob)
    response = client.get(f"/eligibility/bulk/{job.pk}/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="bulk-check-{job.pk}-report.csv"'
    )
    assert response.content == bytes(job.report_data)


@pytest.mark.parametrize("path", ["report.csv", "fragment/", ""])
def test_another_partners_job_is_not_found(alice, charlie_client, path):
    job = make_job(alice)
    assert charlie_client.get(f"/eligibility/bulk/{job.pk}/{path}").status_code == 404


def test_missing_job_and_unfinished_report_are_not_found(alice, alice_client):
    running = make_job(alice, status=Status.RUNNING)
    assert alice_client.get(f"/eligibility/bulk/{running.pk}/report.csv").status_code == 404
    assert alice_client.get("/eligibility/bulk/999999/report.csv").status_code == 404


def test_report_needs_a_login(alice, client):
    job = make_job(alice)
    assert client.get(f"/eligibility/bulk/{job.pk}/report.csv").status_code == 302


def test_a_processed_upload_can_be_downloaded_through_the_page(alice_client, alice, registry):
    upload(alice_client, csv_bytes([{"tax_id": "=1+1", "company_name": "@cmd"}]))
    job = BulkCheckJob.objects.get()
    process_bulk_job(job_id=job.pk)
    content = alice_client.get(f"/eligibility/bulk/{job.pk}/report.csv").content
    text = content.decode("utf-8-sig")
    assert "'=1+1" in text
    assert "'@cmd" in text


def test_a_user_of_a_deactivated_partner_cannot_upload(registry):
    user = UserFactory(partner__is_active=False)
    client = Client()
    client.force_login(user)
    assert client.get(URL).status_code == 403
