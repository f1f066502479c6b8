"""A real `celery worker` process for tests, and what they wait for and read from it.

The worker is a separate process on the test database and the test's Redis, listening on a
queue of its own, so nothing else picks these tasks up. The fixtures `worker_queue` and
`workers` (tests/conftest.py) start and stop them.
"""

import email
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from email import policy
from pathlib import Path

import pytest
from django.conf import settings

from bulk.models import BulkCheckJob
from tests.server_helpers import database_url

Status = BulkCheckJob.Status
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


class Worker:
    """A `celery worker` subprocess (solo pool: killing it kills the task with it; prefork:
    one pool child runs the task), in a process group of its own."""

    def __init__(self, queue: str, mail_dir: Path, log_path: Path, pool: str = "solo", **env: str):
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HUB_TESTING": "1",
            "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_QUEUE": queue,  # what the worker sends itself (e-mails) stays here too
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            **env,
        }
        self.name = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                self.name,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_ready(self, timeout: float = 30) -> None:
        """Until the worker says it is ready (its start-up work, such as resuming jobs, done)."""
        log = Path(self.log.name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.log.flush()
            if f"{self.name} ready." in log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        pytest.fail(f"The worker did not start.\n{log.read_text(errors='replace')[-4000:]}")

    def kill(self) -> None:
        """The worker dies at once, mid-task (as when a machine goes away)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill_everything(self) -> None:
        """The worker and its pool children die at once (the whole machine goes away)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def pool_children(self) -> list[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


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


def forget_queue(queue: str) -> None:
    """Drop what is left of the queue in Redis (e.g. the killed worker's unacked message)."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue, f"_kombu.binding.{queue}")
    for tag, payload in client.hgetall("unacked").items():
        if queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
