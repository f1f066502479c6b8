"""Staff screens for bulk jobs: list, read-only detail, report download, retry."""

from unittest import mock

from bulk.models import BulkCheckJob
from tests.factories import BulkCheckJobFactory

Status = BulkCheckJob.Status
CHANGELIST = "/admin/bulk/bulkcheckjob/"


def make_job(user, **fields) -> BulkCheckJob:
    """A finished job of ``user``'s partner with its report."""
    defaults = {
        "filename": "staff.csv",
        "status": Status.DONE,
        "processed_rows": 1,
        "report_data": b"\xef\xbb\xbftax_id,result\r\n1,invalid\r\n",
    }
    return BulkCheckJobFactory(partner=user.partner, created_by=user, **(defaults | fields))


def test_staff_list_jobs_without_loading_the_files(staff_client, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_job(alice)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "staff.csv" in response.content.decode()
    job_selects = [q["sql"] for q in queries if 'FROM "bulk_bulkcheckjob"' in q["sql"]]
    assert not any('"input_data"' in sql or '"report_data"' in sql for sql in job_selects)


def test_staff_see_a_job_read_only_and_download_its_report(staff_client, alice):
    job = make_job(alice)
    page = staff_client.get(f"{CHANGELIST}{job.pk}/change/")
    assert page.status_code == 200
    assert f"bulk-check-{job.pk}-report.csv" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    report = staff_client.get(f"{CHANGELIST}{job.pk}/report.csv")
    assert report.status_code == 200
    assert report.content == bytes(job.report_data)
    assert report["Content-Disposition"].startswith("attachment;")


def test_staff_retry_failed_jobs_only(staff_client, alice):
    failed = make_job(alice, status=Status.FAILED, report_data=None, error_message="x", attempts=5)
    done = make_job(alice)
    with mock.patch("bulk.services.queue_job") as send:
        response = staff_client.post(
            CHANGELIST,
            {"action": "retry", "_selected_action": [failed.pk, done.pk]},
            follow=True,
        )
    assert "1 job queued again." in response.content.decode()
    send.assert_called_once_with(failed.pk)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error_message) == (Status.QUEUED, 0, "")


def test_partner_users_cannot_reach_the_admin_report(alice_client, alice):
    job = make_job(alice)
    response = alice_client.get(f"{CHANGELIST}{job.pk}/report.csv")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
