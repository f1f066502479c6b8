"""Bulk jobs on a real Celery worker: the report arrives by e-mail, a killed worker loses nothing.

The worker is a separate `celery worker` process (tests/worker_helpers.py) on the test
database and the test's Redis, listening on a queue of its own.
"""

import os
import signal

import pytest

from bulk.models import BulkCheckJob
from bulk.services import requeue_stuck_jobs, start_bulk_check
from eligibility.models import EligibilityCheck
from requests_app.models import PartnerRequest
from tests.bulk.bulk_helpers import bad_checksum, cnpj, csv_bytes, formatted, launch_row
from tests.bulk.conftest import BLOCKED, CLIENT, CLIENT_BRANCH, NEW_COMPANY, PROSPECT, PROTECTED
from tests.worker_helpers import csv_attachment, finished, mailed_messages, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

Status = BulkCheckJob.Status


def test_worker_checks_the_file_and_emails_the_report(alice, registry, protected_by_other, workers):
    from tests.bulk.bulk_helpers import parse_report

    rows = [
        ({"country": "BR", "tax_id": formatted(CLIENT), "company_name": "=HYPERLINK(1)"}, "client"),
        ({"country": "", "tax_id": CLIENT_BRANCH}, "client"),
        ({"country": "br", "tax_id": BLOCKED}, "unavailable"),
        ({"country": "BR", "tax_id": PROSPECT, "contact_phone": "+55 11 5555-0000"}, "available"),
        ({"country": "BR", "tax_id": NEW_COMPANY}, "available"),
        ({"country": "BR", "tax_id": PROTECTED}, "unavailable"),
        ({"country": "BR", "tax_id": bad_checksum(NEW_COMPANY)}, "invalid"),
        ({"country": "XX", "tax_id": "123"}, "invalid"),
    ]
    data = csv_bytes([row for row, _result in rows], delimiter=";", bom=True)
    workers()
    job = start_bulk_check(user=alice, filename="worker.csv", data=data, mode="check")

    job = wait_for(lambda: finished(job.pk), timeout=60, what="the job", log=workers.log)
    assert job.status == Status.DONE, job.error_message
    (message,) = wait_for(
        lambda: mailed_messages(workers.mail_dir),
        timeout=30,
        what="the report e-mail",
        log=workers.log,
    )
    assert message["To"] == alice.email
    assert "/eligibility/bulk/" in message.get_body(("plain",)).get_content()

    header, report = parse_report(csv_attachment(message), ";")
    assert header[-3:] == ["result", "reason", "request_reference"]
    assert len(report) == len(rows)
    for (row, expected), got in zip(rows, report, strict=True):
        assert got["tax_id"] == row["tax_id"]
        assert got["result"] == expected, got
        assert got["reason"]
        assert got["request_reference"] == ""
    assert report[0]["company_name"] == "'=HYPERLINK(1)"
    assert report[3]["contact_phone"] == "'+55 11 5555-0000"
    assert EligibilityCheck.objects.filter(bulk_job=job, source="bulk").count() == len(rows)
    assert job.counts == {"available": 2, "client": 2, "unavailable": 2, "invalid": 2}


def test_a_killed_worker_loses_nothing_and_repeats_nothing(alice, registry, workers, settings):
    total = 3000
    rows = []
    for n in range(1, total + 1):
        if n % 10 == 0:
            row = launch_row(cnpj(60_000_000 + n))  # complete: becomes a launch
        elif n % 10 == 5 and n > 10:
            row = launch_row(cnpj(60_000_000 + n - 5))  # the same company again: a repeat
        elif n % 10 == 3:
            row = {"tax_id": bad_checksum(cnpj(n))}
        else:
            row = {"tax_id": cnpj(n)}  # available, but no contact data: not launched
        rows.append({"ref": str(n), **row})
    header = [
        "ref",
        "country",
        "tax_id",
        "company_name",
        "contact_name",
        "contact_email",
        "contact_phone",
        "employee_count",
        "business_model",
    ]
    data = csv_bytes(rows, header=header)

    first = workers(BULK_CHUNK_SIZE="50")
    job = start_bulk_check(user=alice, filename="big.csv", data=data, mode="check_and_launch")

    def midway():
        processed = BulkCheckJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
        return 0 < processed < total // 2

    wait_for(midway, timeout=60, what="the first chunks", log=workers.log, step=0.02)
    first.kill()
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert 0 < job.processed_rows < total, "the worker must die mid-job for this test"
    killed_at = job.processed_rows

    # The broker would redeliver only after its visibility timeout (an hour); the beat's
    # requeue service notices the stale heartbeat instead (here after one second).
    settings.BULK_STUCK_AFTER_SECONDS = 1
    workers(BULK_CHUNK_SIZE="50")

    def done_after_requeue():
        current = finished(job.pk)
        if current is None:
            requeue_stuck_jobs()
        return current

    job = wait_for(
        done_after_requeue, timeout=120, what="the resumed job", log=workers.log, step=0.5
    )
    assert job.status == Status.DONE, job.error_message
    assert job.attempts >= 2
    assert job.processed_rows == total
    assert killed_at < total

    checks = EligibilityCheck.objects.filter(bulk_job=job, source="bulk")
    assert checks.count() == total
    assert sum(job.counts.values()) == total

    from tests.bulk.bulk_helpers import parse_report

    _header, report = parse_report(bytes(job.report_data))
    assert [r["ref"] for r in report] == [str(n) for n in range(1, total + 1)]

    launches = PartnerRequest.objects.filter(bulk_job=job)
    rows_launched = list(launches.values_list("bulk_row", flat=True))
    assert len(rows_launched) == len(set(rows_launched)) == total // 10
    assert job.launched_count == total // 10
    references = {r["request_reference"] for r in report if r["request_reference"]}
    assert references == set(launches.values_list("reference", flat=True))
    repeats = [r for r in report if int(r["ref"]) % 10 == 5 and int(r["ref"]) > 10]
    assert all(r["result"] == "unavailable" and "line" in r["reason"] for r in repeats)


# --- A lost worker: the job resumes at once, every row exactly once ------------------------------

BIG_FILE_ROWS = 20_000
# Leases of 2 s in these tests (15 s in production): a dead worker's job is free within 2 s.
FAST_LEASE = {"BULK_CHUNK_SIZE": "500", "BULK_LEASE_SECONDS": "2"}


def _big_file() -> bytes:
    """20,000 rows: every 100th one a complete launch, the others plain checks."""
    rows = []
    for n in range(1, BIG_FILE_ROWS + 1):
        row = launch_row(cnpj(70_000_000 + n)) if n % 100 == 0 else {"tax_id": cnpj(n)}
        rows.append({"ref": str(n), **row})
    header = ["ref", "country", "tax_id", "company_name", "contact_name", "contact_email",
              "contact_phone", "employee_count", "business_model"]  # fmt: skip
    return csv_bytes(rows, header=header)


def _wait_until_midway(job, workers) -> int:
    def midway():
        processed = BulkCheckJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
        return processed if 0 < processed < BIG_FILE_ROWS // 2 else 0

    return wait_for(midway, timeout=60, what="the first chunks", log=workers.log, step=0.02)


def _assert_every_row_exactly_once(job) -> None:
    from tests.bulk.bulk_helpers import parse_report

    assert job.status == Status.DONE, job.error_message
    assert job.processed_rows == BIG_FILE_ROWS
    assert sum(job.counts.values()) == BIG_FILE_ROWS
    assert EligibilityCheck.objects.filter(bulk_job=job, source="bulk").count() == BIG_FILE_ROWS
    _header, report = parse_report(bytes(job.report_data))
    assert [r["ref"] for r in report] == [str(n) for n in range(1, BIG_FILE_ROWS + 1)]
    launches = PartnerRequest.objects.filter(bulk_job=job)
    rows_launched = list(launches.values_list("bulk_row", flat=True))
    assert len(rows_launched) == len(set(rows_launched)) == BIG_FILE_ROWS // 100
    assert job.launched_count == BIG_FILE_ROWS // 100


def test_a_killed_pool_child_is_replaced_and_the_job_resumes_at_once(alice, registry, workers):
    worker = workers(pool="prefork", **FAST_LEASE)
    worker.wait_until_ready()  # so only Celery's own redelivery can bring the task back
    job = start_bulk_check(
        user=alice, filename="big.csv", data=_big_file(), mode="check_and_launch"
    )
    _wait_until_midway(job, workers)
    (child,) = worker.pool_children()
    os.kill(child, signal.SIGKILL)
    job.refresh_from_db()
    assert job.status == Status.RUNNING and job.processed_rows < BIG_FILE_ROWS

    # Celery hands the task again to the worker's new child, which takes the job back once
    # the dead child's lease has run out: no sweep, no visibility timeout.
    job = wait_for(lambda: finished(job.pk), timeout=60, what="the resumed job", log=workers.log)
    _assert_every_row_exactly_once(job)
    assert job.attempts >= 2


def test_a_whole_worker_killed_mid_job_resumes_when_a_worker_starts(alice, registry, workers):
    first = workers(pool="prefork", **FAST_LEASE)
    first.wait_until_ready()
    job = start_bulk_check(
        user=alice, filename="big.csv", data=_big_file(), mode="check_and_launch"
    )
    _wait_until_midway(job, workers)
    first.kill_everything()
    job.refresh_from_db()
    assert job.status == Status.RUNNING and job.processed_rows < BIG_FILE_ROWS

    # Its message is held until the broker's visibility timeout (an hour); a worker that
    # starts sends the unfinished jobs again, and the job resumes after its last chunk.
    workers(pool="prefork", **FAST_LEASE)
    job = wait_for(lambda: finished(job.pk), timeout=60, what="the resumed job", log=workers.log)
    _assert_every_row_exactly_once(job)
    assert job.attempts >= 2


def test_a_live_worker_keeps_its_job_through_a_chunk_longer_than_the_lease(
    alice, registry, workers
):
    from bulk.worker import process_bulk_job_task

    # One chunk of 9,000 rows with 900 launches takes seconds, longer than the lease (1 s)
    # and the time a busy delivery waits before it tries again (2 s).
    env = {"BULK_CHUNK_SIZE": "10000", "BULK_LEASE_SECONDS": "1"}
    first = workers(pool="prefork", **env)
    second = workers(pool="prefork", **env)
    first.wait_until_ready()
    second.wait_until_ready()
    rows = [
        {
            "ref": str(n),
            **(launch_row(cnpj(80_000_000 + n)) if n % 10 == 0 else {"tax_id": cnpj(n)}),
        }
        for n in range(1, 9001)
    ]
    header = ["ref", "country", "tax_id", "company_name", "contact_name", "contact_email",
              "contact_phone", "employee_count", "business_model"]  # fmt: skip
    job = start_bulk_check(
        user=alice, filename="slow.csv", data=csv_bytes(rows, header=header),
        mode="check_and_launch",
    )  # fmt: skip
    wait_for(
        lambda: BulkCheckJob.objects.filter(pk=job.pk, status=Status.RUNNING).exists(),
        timeout=30,
        what="the job to start",
        log=workers.log,
        step=0.02,
    )
    # The task delivered again while its worker is alive (as after a broker hiccup): the
    # other worker finds the job held and leaves it, however long the chunk takes.
    process_bulk_job_task.apply_async(kwargs={"job_id": job.pk})
    job = wait_for(lambda: finished(job.pk), timeout=60, what="the job", log=workers.log)
    assert job.status == Status.DONE, job.error_message
    assert job.attempts == 1, "taken over although its worker was alive"
    assert EligibilityCheck.objects.filter(bulk_job=job).count() == 9000
    assert PartnerRequest.objects.filter(bulk_job=job).count() == 900
