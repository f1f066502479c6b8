"""The registry import with the real parts: an admin upload imported by a real Celery worker, and
`manage.py import_companies` killed in the middle of writing on PostgreSQL.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from eligibility.models import Company, RegistryImport, Subscription
from tests.eligibility.test_eligibility_import import HEADER, cnpj, registry, subscriptions
from tests.factories import CompanyFactory, ProductFactory, SubscriptionFactory
from tests.server_helpers import database_url
from tests.worker_helpers import Worker, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

IMPORTS = "/admin/eligibility/registryimport/"
WAIT_SECONDS = 60


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_an_admin_upload_is_imported_by_the_worker(
    staff_client, partner, media, worker_queue, tmp_path
):
    ProductFactory(code="wellhub-standard", name="Wellhub Standard")
    rows = [f"BR,{cnpj(f'{70000000 + i:08d}')},Company {i},prospect,," for i in range(300)]
    content = "\n".join(
        [
            HEADER,
            "BR,11.222.333/0001-81,Worker SA,client,wellhub-standard,Acme Resellers",
            "BR,11.222.333/0001-82,Wrong Digit,prospect,,",
            *rows,
        ]
    ).encode()
    response = staff_client.post(
        f"{IMPORTS}add/", {"file": SimpleUploadedFile("registry.csv", content)}
    )
    assert response.status_code == 302
    job = RegistryImport.objects.get()
    assert job.status == "queued"  # nothing ran in the web process

    worker = Worker(worker_queue, tmp_path, tmp_path / "worker.log", MEDIA_ROOT=str(media))
    try:
        wait_for(
            lambda: RegistryImport.objects.filter(pk=job.pk, status__in=["done", "failed"]).first(),
            timeout=WAIT_SECONDS,
            what="the worker to finish the job",
        )
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.status == "done", (job.error_message, (tmp_path / "worker.log").read_text())
    assert (job.rows, job.counts["created"], job.counts["invalid"]) == (302, 301, 1)
    assert registry()[("BR", "11222333000181")] == ("Worker SA", "client")
    assert subscriptions() == [("11222333000181", "wellhub-standard", "Acme Resellers")]

    page = staff_client.get(f"{IMPORTS}{job.pk}/change/").content.decode()
    assert 'data-import-status="done"' in page and 'http-equiv="refresh"' not in page
    download = staff_client.get(f"{IMPORTS}{job.pk}/invalid-lines.csv")
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert lines[0] == "line,problem" and lines[1].startswith("3,") and len(lines) == 2


def _command_environment(application_name):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HUB_TESTING": "1",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "PGAPPNAME": application_name,  # how the test finds the command's session
    }


def test_killing_the_command_in_the_middle_of_writing_leaves_the_registry_unchanged(
    uses_real_services, partner, tmp_path
):
    """The command is killed once it has written the companies and waits to write a
    subscription (a row lock held here makes it wait): nothing of its work remains."""
    standard = ProductFactory(code="wellhub-standard", name="Wellhub Standard")
    kept = CompanyFactory(tax_id=cnpj("45723174"), legal_name="Academia", client=True)
    held = SubscriptionFactory(company=kept, product=standard)
    before = (registry(), subscriptions())
    path = tmp_path / "registry.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                f"BR,{kept.tax_id},Academia Renamed,client,wellhub-standard,Acme Resellers",
                *(f"BR,{cnpj(f'{71000000 + i:08d}')},New {i},prospect,," for i in range(2000)),
            ]
        )
    )
    application = f"registry-import-{uuid.uuid4().hex[:8]}"
    watcher = psycopg.connect(
        database_url().replace("postgres://", "postgresql://"), autocommit=True
    )

    def session():
        return watcher.execute(
            "SELECT pid, wait_event_type, query FROM pg_stat_activity "
            "WHERE application_name = %s AND state <> 'idle'",
            [application],
        ).fetchone()

    try:
        with transaction.atomic():
            Subscription.objects.select_for_update().get(pk=held.pk)
            command = subprocess.Popen(
                [sys.executable, "manage.py", "import_companies", str(path)],
                cwd=settings.BASE_DIR,
                env=_command_environment(application),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            waiting = wait_for(
                lambda: (found := session()) and found[1] == "Lock" and found,
                timeout=WAIT_SECONDS,
                what="the command to wait for the subscription's lock",
            )
            pid, _wait, query = waiting
            assert Subscription._meta.db_table in query  # the companies are written by now
            command.send_signal(signal.SIGKILL)
            assert command.wait(timeout=10) == -signal.SIGKILL
        # The lock is released: the orphaned session finds its client gone and ends.
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        ):
            time.sleep(0.1)
        watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        watcher.close()
    assert (registry(), subscriptions()) == before
    assert Company.objects.count() == 1
