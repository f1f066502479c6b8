"""Bulk jobs on a real Celery worker: the report arrives by e-mail, a killed worker loses nothing.

The worker is a separate `celery worker` process on the test database and the test's Redis,
listening on a queue of its own, so nothing else picks these tasks up.
"""

import email
import os
import signal
import subprocess
import sys
import time
import uuid
from email import policy
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from bulk.models import BulkCheckJob
from bulk.services import requeue_stuck_jobs, start_bulk_check
from eligibility.models import EligibilityCheck
from requests_app.models import PartnerRequest
from tests.bulk.bulk_helpers import bad_checksum, cnpj, csv_bytes, formatted, launch_row
from tests.bulk.conftest import BLOCKED, CLIENT, CLIENT_BRANCH, NEW_COMPANY, PROSPECT, PROTECTED

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

Status = BulkCheckJob.Status
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def _database_url() -> str:
    """The test database (pytest-django's NAME while the test runs) as a DATABASE_URL."""
    db = settings.DATABASES["default"]
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """A `celery worker` subprocess (solo pool: killing it kills the task with it)."""

    def __init__(self, queue: str, mail_dir: Path, log_path: Path, **env: str):
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HUB_TESTING": "1",
            "DATABASE_URL": _database_url(),
            "DB_CONN_MAX_AGE": "0",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_QUEUE": queue,  # what the worker sends itself (e-mails) stays here too
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            **env,
        }
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-n",
                f"{queue}-{uuid.uuid4().hex[:6]}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """The worker dies at once, mid-task (as when a machine goes away)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def worker_queue(uses_real_services):
    """Send this test's tasks to a queue of its own, for real (not eagerly)."""
    from config.celery import app

    queue = f"bulk-test-{uuid.uuid4().hex[:10]}"
    routes = app.conf.task_routes
    app.conf.task_always_eager = False
    app.conf.update(task_routes={"bulk.*": {"queue": queue}, "core.*": {"queue": queue}})
    try:
        yield queue
    finally:
        app.conf.update(task_routes=routes)
        app.conf.task_always_eager = True
        _forget_queue(app, queue)


def _forget_queue(app, queue: str) -> None:
    """Drop what is left of the queue in Redis (e.g. the killed worker's unacked message)."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue, f"_kombu.binding.{queue}")
    for tag, payload in client.hgetall("unacked").items():
        if queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture
def workers(worker_queue, tmp_path):
    started: list[Worker] = []
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    def start(**env) -> Worker:
        worker = Worker(worker_queue, mail_dir, tmp_path / "worker.log", **env)
        started.append(worker)
        return worker

    start.mail_dir = mail_dir
    start.log = tmp_path / "worker.log"
    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def wait_for(condition, *, timeout: float, what: str, log: Path | None = None, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    details = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"Timed out waiting for {what}.\n{details}")


def mailed_messages(mail_dir: Path) -> list[email.message.EmailMessage]:
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for part in path.read_bytes().split(MAIL_SEPARATOR):
            if part.strip():
                messages.append(email.message_from_bytes(part, policy=policy.default))
    return messages


def csv_attachment(message) -> bytes:
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    return attachment.get_payload(decode=True)


def finished(job_id: int) -> BulkCheckJob | None:
    job = BulkCheckJob.objects.defer("input_data").get(pk=job_id)
    return job if job.status in (Status.DONE, Status.FAILED) else None


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
