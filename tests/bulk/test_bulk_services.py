"""Starting and processing bulk jobs: results row by row, chunks, resuming, failing, re-queuing."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from bulk import reports as bulk_reports
from bulk import services as bulk_services
from bulk import worker as bulk_worker
from bulk.claims import MAX_ATTEMPTS
from bulk.csv import UploadRejected
from bulk.models import BulkCheckJob, BulkReportChunk
from bulk.services import requeue_stuck_jobs, start_bulk_check
from bulk.worker import process_bulk_job
from eligibility.models import EligibilityCheck
from tests.bulk.bulk_helpers import bad_checksum, cnpj, csv_bytes, formatted, parse_report
from tests.bulk.conftest import BLOCKED, CLIENT, CLIENT_BRANCH, NEW_COMPANY, PROSPECT, PROTECTED

Status = BulkCheckJob.Status


def start(user, rows, *, mode="check", **csv_options) -> BulkCheckJob:
    data = rows if isinstance(rows, bytes) else csv_bytes(rows, **csv_options)
    return start_bulk_check(user=user, filename="companies.csv", data=data, mode=mode)


def run(job: BulkCheckJob) -> BulkCheckJob:
    process_bulk_job(job_id=job.pk)
    job.refresh_from_db()
    return job


def report_rows(job: BulkCheckJob, delimiter=","):
    return parse_report(bytes(job.report_data), delimiter)[1]


def stale(job: BulkCheckJob) -> None:
    BulkCheckJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


# --- Starting ---------------------------------------------------------------------------------


def test_upload_is_stored_and_queued_after_commit(alice, registry, on_commit):
    data = csv_bytes([{"tax_id": CLIENT}])
    # Handed over through the outbox (core.outbox), which publishes with apply_async.
    with mock.patch("bulk.tasks.process_bulk_job_task.apply_async") as delay:
        with on_commit():
            job = start_bulk_check(user=alice, filename="a.csv", data=data, mode="check")
            delay.assert_not_called()  # not before the job row is committed
    delay.assert_called_once_with(kwargs={"job_id": job.pk})
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert bytes(job.input_data) == data
    assert (job.total_rows, job.encoding, job.delimiter, job.partner) == (
        1,
        "utf-8-sig",
        ",",
        alice.partner,
    )


def test_standard_partner_cannot_start_check_and_launch(charlie, registry):
    with pytest.raises(UploadRejected, match="premium partners only"):
        start(charlie, [{"tax_id": CLIENT}], mode="check_and_launch")
    assert not BulkCheckJob.objects.exists()


def test_unknown_mode_is_refused(alice, registry):
    with pytest.raises(UploadRejected):
        start(alice, [{"tax_id": CLIENT}], mode="launch_everything")


def test_over_the_byte_limit_is_refused_before_reading(alice, settings):
    settings.BULK_MAX_BYTES = 100
    with pytest.raises(UploadRejected, match="larger than 100"):
        start(alice, [{"tax_id": cnpj(n)} for n in range(10)])
    assert not BulkCheckJob.objects.exists()


def test_over_the_row_limit_is_refused(alice, settings):
    settings.BULK_MAX_ROWS = 3
    with pytest.raises(UploadRejected, match="more than 3 rows"):
        start(alice, [{"tax_id": cnpj(n)} for n in range(4)])
    assert not BulkCheckJob.objects.exists()


def test_staff_without_partner_cannot_start(staff):
    with pytest.raises(UploadRejected, match="partner organisation"):
        start(staff, [{"tax_id": CLIENT}])


# --- Results row by row ---------------------------------------------------------------------


def test_every_kind_of_row_gets_its_result_and_reason(alice, registry, protected_by_other):
    rows = [
        {"country": "BR", "tax_id": formatted(CLIENT), "company_name": "Client"},
        {"country": "br", "tax_id": CLIENT_BRANCH, "company_name": "Branch"},
        {"country": "BR", "tax_id": BLOCKED},
        {"country": "", "tax_id": PROSPECT},  # empty country: the partner's home country (BR)
        {"country": "BR", "tax_id": NEW_COMPANY},
        {"country": "BR", "tax_id": PROTECTED},
        {"country": "BR", "tax_id": bad_checksum(NEW_COMPANY)},
        {"country": "ZZ", "tax_id": "123"},
        {"country": "BR", "tax_id": ""},
    ]
    job = run(start(alice, rows))
    assert job.status == Status.DONE
    report = report_rows(job)
    assert [(r["tax_id"], r["result"]) for r in report] == [
        (formatted(CLIENT), "client"),
        (CLIENT_BRANCH, "client"),
        (BLOCKED, "unavailable"),
        (PROSPECT, "available"),
        (NEW_COMPANY, "available"),
        (PROTECTED, "unavailable"),
        (bad_checksum(NEW_COMPANY), "invalid"),
        ("123", "invalid"),
        ("", "invalid"),
    ]
    assert "branch" in report[1]["reason"]
    assert "Globex" not in report[5]["reason"]  # never names another partner
    assert "check digit" in report[6]["reason"]
    assert "cannot check Tax IDs for this country" in report[7]["reason"]
    assert all(r["request_reference"] == "" for r in report)
    assert job.counts == {"available": 2, "client": 2, "unavailable": 2, "invalid": 3}
    assert (job.processed_rows, job.total_rows) == (9, 9)


def test_every_row_is_logged_once_as_a_bulk_check(alice, registry):
    job = run(start(alice, [{"tax_id": CLIENT}, {"country": "", "tax_id": "nope"}]))
    checks = EligibilityCheck.objects.filter(bulk_job=job).order_by("pk")
    assert [(c.source, c.user, c.partner, c.country, c.raw_input, c.result) for c in checks] == [
        ("bulk", alice, alice.partner, "BR", CLIENT, "client"),
        ("bulk", alice, alice.partner, "BR", "nope", "invalid"),
    ]


def test_own_open_request_names_its_reference(alice, registry, protected_by_other):
    protected_by_other.partner = alice.partner
    protected_by_other.save()
    job = run(start(alice, [{"tax_id": PROTECTED}]))
    (row,) = report_rows(job)
    assert row["result"] == "unavailable"
    assert "RH-999999" in row["reason"]


def test_report_keeps_every_input_column_as_written_and_in_order(alice, registry):
    header = ["Extra Note", "TAX ID", "Country "]
    data = csv_bytes(
        [["hello", CLIENT, "BR"], ["", "", ""], ["second", PROSPECT, ""]],
        header=header,
        delimiter=";",
    )
    job = run(start(alice, data))
    header_out, rows = parse_report(bytes(job.report_data), ";")
    assert header_out == [
        "Extra Note",
        "TAX ID",
        "Country",
        "result",
        "reason",
        "request_reference",
    ]
    assert [(r["Extra Note"], r["result"]) for r in rows] == [
        ("hello", "client"),
        ("second", "available"),
    ]


def test_row_with_more_cells_than_the_header_is_reported_not_guessed(alice, registry):
    data = f"tax_id,company_name\r\n{CLIENT},Acme, Inc\r\n{PROSPECT},Fine,,\r\n".encode()
    job = run(start(alice, data))
    first, second = report_rows(job)
    assert first["result"] == "invalid"
    assert "1 more cell" in first["reason"]
    assert first["company_name"] == "Acme"
    assert second["result"] == "available"  # empty trailing cells are what spreadsheets write


def test_rows_with_fewer_cells_than_the_header_are_checked(alice, registry):
    data = f"country,tax_id,company_name,contact_name\r\nBR,{CLIENT}\r\n{PROSPECT}\r\n".encode()
    job = run(start(alice, data))
    first, second = report_rows(job)
    assert (first["result"], first["company_name"], first["contact_name"]) == ("client", "", "")
    # One cell only: it sits under "country", so the Tax ID is missing.
    assert (second["country"], second["result"]) == (PROSPECT, "invalid")


def test_email_subject_keeps_the_file_name_as_written(alice, registry, on_commit, mailoutbox):
    job = start_bulk_check(
        user=alice,
        filename="A&B <clients>.csv",
        data=csv_bytes([{"tax_id": CLIENT}]),
        mode="check",
    )
    with on_commit():
        run(job)
    assert "A&B <clients>.csv" in mailoutbox[0].subject
    assert "A&B <clients>.csv" in mailoutbox[0].body


@pytest.mark.parametrize(
    "payload",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+cmd|' /C calc'!A0",
        "-1+2",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
    ],
)
def test_formulas_in_any_column_are_neutralised_in_the_report(alice, registry, payload):
    row = {
        column: payload
        for column in (
            "company_name",
            "contact_name",
            "contact_email",
            "contact_phone",
            "employee_count",
            "business_model",
        )
    }
    job = run(start(alice, [{"tax_id": CLIENT, **row}, {"tax_id": payload, "country": payload}]))
    for report_row in report_rows(job):
        for column, value in report_row.items():
            assert not value or value[0] not in "=+-@\t\r", (column, value)
    assert report_rows(job)[0]["company_name"] == "'" + payload


def test_very_long_cells_are_kept_in_the_report_and_cut_in_the_log(alice, registry):
    long = "x" * 20_000
    job = run(start(alice, [{"tax_id": long, "company_name": long, "country": long}]))
    (row,) = report_rows(job)
    assert row["result"] == "invalid"
    assert row["company_name"] == long
    check = EligibilityCheck.objects.get(bulk_job=job)
    assert len(check.raw_input) == 128
    assert len(check.company_name) == 255


def test_a_big_chunk_logs_every_check_with_all_its_fields(alice, registry):
    # 150 rows: on PostgreSQL the log of such a chunk is written with COPY, not INSERT.
    rows = [{"tax_id": cnpj(n), "company_name": f"Company {n}"} for n in range(1, 150)]
    rows.append({"country": "b" * 20, "tax_id": "x" * 300, "company_name": "n" * 300})
    started = timezone.now()
    job = run(start(alice, rows))
    checks = list(EligibilityCheck.objects.filter(bulk_job=job).order_by("pk"))
    assert len(checks) == 150
    first, last = checks[0], checks[-1]
    assert (first.user, first.partner, first.source, first.country, first.raw_input) == (
        alice,
        alice.partner,
        "bulk",
        "BR",
        cnpj(1),
    )
    assert (first.company_name, first.tax_id, first.result, first.reason) == (
        "Company 1",
        cnpj(1),
        "available",
        "new_company",
    )
    assert first.created_at >= started
    assert (len(last.country), len(last.raw_input), len(last.company_name)) == (8, 128, 255)
    assert (last.tax_id, last.result) == ("", "invalid")


def test_report_is_emailed_with_the_csv_attached_and_a_link(
    alice, registry, on_commit, mailoutbox, settings
):
    job = start(alice, [{"tax_id": CLIENT}, {"tax_id": "bad"}])
    with on_commit():
        job = run(job)
    (message,) = mailoutbox
    assert message.to == [alice.email]
    assert "companies.csv" in message.subject
    jobs_url = settings.SITE_URL + reverse("bulk:jobs")
    assert f"Your organisation's files and reports: {jobs_url}\n" in message.body
    assert "/report.csv" not in message.body  # the report is attached, not linked
    (attachment,) = message.attachments
    assert attachment[0] == f"bulk-check-{job.pk}-report.csv"
    content = attachment[1].encode() if isinstance(attachment[1], str) else attachment[1]
    assert content.decode("utf-8").lstrip("\ufeff") == bytes(job.report_data).decode("utf-8-sig")
    assert "Already a client: 1" in message.body


def test_a_report_too_large_to_attach_is_linked_instead(
    alice, registry, on_commit, mailoutbox, monkeypatch
):
    monkeypatch.setattr(bulk_reports, "REPORT_ATTACHMENT_MAX_BYTES", 10)
    job = start(alice, [{"tax_id": CLIENT}])
    with on_commit():
        job = run(job)
    (message,) = mailoutbox
    assert message.attachments == []
    assert f"/eligibility/bulk/{job.pk}/report.csv" in message.body
    assert "too large to attach" in message.body


def test_a_chunk_makes_one_decision_call_and_the_report_follows_the_file(alice, registry, settings):
    settings.BULK_CHUNK_SIZE = 3
    rows = [{"tax_id": cnpj(n)} for n in range(1, 11)]
    with mock.patch("bulk.worker.decide_many", wraps=bulk_worker.decide_many) as decide:
        job = run(start(alice, rows))
    assert decide.call_count == 4  # 3 + 3 + 3 + 1
    assert [r["tax_id"] for r in report_rows(job)] == [cnpj(n) for n in range(1, 11)]
    assert EligibilityCheck.objects.filter(bulk_job=job).count() == 10
    assert not BulkReportChunk.objects.filter(job=job).exists()  # folded into the report


def test_chunk_queries_do_not_grow_with_the_chunk(alice, registry, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.BULK_CHUNK_SIZE = 1000

    def queries(rows: int) -> list[str]:
        job = start(alice, [{"tax_id": CLIENT}] + [{"tax_id": cnpj(n)} for n in range(1, rows)])
        with CaptureQueriesContext(connection) as captured:
            run(job)
        # The check log's bulk insert is split by the database's parameter limit only.
        return [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith('INSERT INTO "eligibility_eligibilitycheck"')
        ]

    small, big = queries(10), queries(900)
    assert len(big) == len(small) <= 25


# --- Claiming, resuming, failing -------------------------------------------------------------


def test_processing_twice_does_nothing_the_second_time(alice, registry):
    job = run(start(alice, [{"tax_id": CLIENT}]))
    assert process_bulk_job(job_id=job.pk) == "skipped"
    assert EligibilityCheck.objects.filter(bulk_job=job).count() == 1


def test_a_job_running_with_a_fresh_heartbeat_is_left_to_its_worker(alice, registry):
    job = start(alice, [{"tax_id": CLIENT}])
    BulkCheckJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    # "busy": its task tries again once the other worker's lease would have run out.
    assert process_bulk_job(job_id=job.pk) == "busy"
    assert not EligibilityCheck.objects.filter(bulk_job=job).exists()


def test_a_task_that_finds_the_job_held_by_a_live_worker_tries_again_after_its_lease(
    alice, registry, settings
):
    job = start(alice, [{"tax_id": CLIENT}])
    BulkCheckJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )
    task = bulk_worker.process_bulk_job_task
    with mock.patch.object(task, "retry", side_effect=RuntimeError("retried")) as retry:
        with pytest.raises(RuntimeError, match="retried"):
            task(job.pk)  # as a worker runs it (not eagerly)
    retry.assert_called_once_with(countdown=settings.BULK_LEASE_SECONDS + 1)
    assert task.max_retries is None  # it tries again until the job ends or its lease runs out
    assert not EligibilityCheck.objects.filter(bulk_job=job).exists()

    # Once the lease has run out (its worker is gone), the next delivery takes the job.
    stale(job)
    assert process_bulk_job(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Status.DONE, 2)


def test_unfinished_jobs_are_sent_again_when_a_worker_starts(alice, registry):
    queued = start(alice, [{"tax_id": CLIENT}])
    running = start(alice, [{"tax_id": PROSPECT}])
    BulkCheckJob.objects.filter(pk=running.pk).update(status=Status.RUNNING)
    done = run(start(alice, [{"tax_id": BLOCKED}]))
    with mock.patch("bulk.services.queue_job") as send:
        assert bulk_services.resume_unfinished_jobs() == 2
    assert [c.args[0] for c in send.call_args_list] == [queued.pk, running.pk]
    assert done.status == Status.DONE


def test_a_worker_that_dies_mid_job_loses_nothing_and_repeats_nothing(alice, registry, settings):
    settings.BULK_CHUNK_SIZE = 4
    rows = [{"tax_id": cnpj(n)} for n in range(1, 11)]
    job = start(alice, rows)
    real_log = bulk_worker.log_checks
    calls = []

    def dies_in_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_log(**kwargs)

    with mock.patch("bulk.worker.log_checks", side_effect=dies_in_second_chunk):
        with pytest.raises(OperationalError):
            process_bulk_job(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (Status.RUNNING, 4)  # chunk 1 kept, 2 rolled back
    assert EligibilityCheck.objects.filter(bulk_job=job).count() == 4

    stale(job)
    job = run(job)
    assert job.status == Status.DONE
    assert job.attempts == 2
    assert EligibilityCheck.objects.filter(bulk_job=job).count() == 10
    assert [r["tax_id"] for r in report_rows(job)] == [cnpj(n) for n in range(1, 11)]
    assert sum(job.counts.values()) == 10


def test_a_run_that_lost_its_claim_stops_without_writing(alice, registry, settings):
    settings.BULK_CHUNK_SIZE = 2
    job = start(alice, [{"tax_id": cnpj(n)} for n in range(1, 7)])
    real_decide = bulk_worker.decide_many
    calls = []

    def another_worker_claims(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # someone re-claimed the job after the first chunk
            BulkCheckJob.objects.filter(pk=job.pk).update(attempts=5)
        return real_decide(**kwargs)

    with mock.patch("bulk.worker.decide_many", side_effect=another_worker_claims):
        assert process_bulk_job(job_id=job.pk) == "superseded"
    job.refresh_from_db()
    assert job.processed_rows == 2
    assert EligibilityCheck.objects.filter(bulk_job=job).count() == 2


def test_an_unexpected_error_fails_the_job_with_a_sentence_for_the_user(
    alice, registry, on_commit, mailoutbox, caplog
):
    job = start(alice, [{"tax_id": CLIENT}])
    with mock.patch("bulk.worker.decide_many", side_effect=ValueError("boom: internal detail")):
        with on_commit():
            job = run(job)
    assert job.status == Status.FAILED
    assert "unexpected error" in job.error_message
    assert "boom" not in job.error_message
    assert "boom: internal detail" in caplog.text  # the technical detail is logged
    assert not EligibilityCheck.objects.filter(bulk_job=job).exists()
    (message,) = mailoutbox
    assert "failed" in message.subject.lower()


def test_a_job_whose_user_is_gone_fails_clearly(alice, registry):
    job = start(alice, [{"tax_id": CLIENT}])
    BulkCheckJob.objects.filter(pk=job.pk).update(created_by=None)
    job = run(job)
    assert job.status == Status.FAILED
    assert "no longer exists" in job.error_message


def test_a_job_that_keeps_dying_is_given_up(alice, registry):
    job = start(alice, [{"tax_id": CLIENT}])
    BulkCheckJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, attempts=MAX_ATTEMPTS)
    stale(job)
    assert process_bulk_job(job_id=job.pk) == "skipped"
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_message


# --- Re-queuing ---------------------------------------------------------------------------------


def test_stuck_jobs_are_sent_again_and_finish(alice, registry, on_commit):
    dead = start(alice, [{"tax_id": CLIENT}])
    BulkCheckJob.objects.filter(pk=dead.pk).update(status=Status.RUNNING, attempts=1)
    stale(dead)
    lost = start(alice, [{"tax_id": PROSPECT}])
    BulkCheckJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    busy = start(alice, [{"tax_id": BLOCKED}])
    BulkCheckJob.objects.filter(pk=busy.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    fresh = start(alice, [{"tax_id": BLOCKED}])

    with on_commit():
        assert requeue_stuck_jobs() == 2
    for job in (dead, lost, busy, fresh):
        job.refresh_from_db()
    assert (dead.status, lost.status) == (Status.DONE, Status.DONE)
    assert (busy.status, fresh.status) == (Status.RUNNING, Status.QUEUED)


def test_a_requeued_job_is_not_sent_again_within_the_period(alice, registry):
    job = start(alice, [{"tax_id": CLIENT}])
    BulkCheckJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with mock.patch("bulk.services.queue_job") as send:
        assert requeue_stuck_jobs() == 1
        assert requeue_stuck_jobs() == 0
    send.assert_called_once_with(job.pk)


def test_the_beat_task_name_is_the_one_scheduled(settings):
    from bulk.tasks import requeue_stuck_bulk_jobs_task

    scheduled = settings.CELERY_BEAT_SCHEDULE["requeue-stuck-bulk-jobs"]["task"]
    assert requeue_stuck_bulk_jobs_task.name == scheduled


def test_failed_jobs_can_be_retried_by_staff(alice, registry):
    job = start(alice, [{"tax_id": CLIENT}])
    with mock.patch("bulk.worker.decide_many", side_effect=ValueError):
        job = run(job)
    assert job.status == Status.FAILED
    with mock.patch("bulk.services.queue_job"):
        assert bulk_services.retry_failed_jobs(BulkCheckJob.objects.all()) == 1
    job = run(job)
    assert job.status == Status.DONE
