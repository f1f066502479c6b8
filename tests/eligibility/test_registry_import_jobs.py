"""Registry files uploaded in the admin: checked at once, imported by a job, followed on its page.

Tasks run in-process here (the worker is tested in test_registry_import_worker.py).
"""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from eligibility.import_jobs import run_registry_import
from eligibility.models import Company, RegistryImport
from tests.eligibility.test_eligibility_import import HEADER, registry, subscriptions
from tests.factories import ProductFactory, RegistryImportFactory

IMPORTS = "/admin/eligibility/registryimport/"
COMPANIES = "/admin/eligibility/company/"
GOOD = (
    f"{HEADER}\r\n"
    "BR,11.222.333/0001-81,Via Admin SA,client,wellhub-standard,Acme Resellers\r\n"
    "BR,45723174000110,Academia,prospect,,\r\n"
    "BR,11.222.333/0001-82,Wrong Digit,prospect,,\r\n"
    "BR,45.723.174/0001-10,Academia Paulista,prospect,,\r\n"
    "BR,28391765000119,Construtora,client,gold-plan,client\r\n"
).encode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def products(db):
    return ProductFactory(code="wellhub-standard", name="Wellhub Standard")


def upload(client, content, name="companies.csv"):
    return client.post(
        f"{IMPORTS}add/", {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


def test_staff_uploads_a_file_that_is_imported_with_the_command_rules(
    staff_client, products, partner, on_commit
):
    with on_commit():
        response = upload(staff_client, GOOD)
    job = RegistryImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{IMPORTS}{job.pk}/change/"
    assert registry() == {
        ("BR", "11222333000181"): ("Via Admin SA", "client"),
        ("BR", "45723174000110"): ("Academia Paulista", "prospect"),
    }
    assert subscriptions() == [("11222333000181", "wellhub-standard", "Acme Resellers")]
    job.refresh_from_db()
    assert (job.status, job.rows, job.problem_count, job.filename) == (
        "done",
        5,
        3,
        "companies.csv",
    )
    assert job.counts["created"] == 2 and job.counts["invalid"] == 2
    assert job.counts["duplicates"] == 1 and job.counts["subscriptions_created"] == 1

    page = staff_client.get(response["Location"]).content.decode()
    assert 'data-import-status="done"' in page
    assert 'data-count="created">companies created: 2' in page
    assert "Download the 3 invalid or repeated lines" in page


def test_the_invalid_lines_download_as_csv_with_their_line_numbers(
    staff_client, products, partner, on_commit
):
    with on_commit():
        upload(staff_client, GOOD)
    job = RegistryImport.objects.get()
    response = staff_client.get(f"{IMPORTS}{job.pk}/invalid-lines.csv")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["line", "problem"]
    problems = dict(rows[1:])
    assert sorted(problems, key=int) == ["4", "5", "6"]
    assert "check digit" in problems["4"] and "gold-plan" in problems["6"]
    assert problems["5"] == "Same company as line 3; this later line wins."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"tax_id,name\n1,2\n", "misses the columns"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image"),
        (f"{HEADER}\nMX,1,Caf".encode() + b"\x81,,,\n", "characters we cannot read"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_once(staff_client, db, content, message):
    response = upload(staff_client, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RegistryImport.objects.exists() and not Company.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(staff_client, db, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 1024
    response = upload(staff_client, GOOD + b"x" * 100_000)
    assert response.status_code == 413
    assert "larger than 1.0" in response.content.decode()
    assert not RegistryImport.objects.exists()


def test_a_file_over_the_limit_without_a_declared_length_is_refused_too(staff_client, db, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 200
    response = upload(staff_client, GOOD)  # smaller than the form overhead allowed for
    assert response.status_code == 400
    assert "larger than 200" in response.content.decode()
    assert not RegistryImport.objects.exists()


def test_a_job_whose_file_cannot_be_read_fails_with_its_reason(db):
    job = RegistryImportFactory(file__data=b"country;tax_id\nBR;1\n")
    assert run_registry_import(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "misses the columns" in job.error_message
    assert not Company.objects.exists()


def test_a_job_runs_once_however_often_its_task_is_delivered(db):
    job = RegistryImportFactory()
    assert run_registry_import(job.pk) == "done"
    assert run_registry_import(job.pk) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.counts["created"]) == ("done", 1, 1)
    assert Company.objects.count() == 1


def test_a_job_page_shows_that_it_waits_and_reloads_itself(staff_client, db):
    job = RegistryImportFactory()
    page = staff_client.get(f"{IMPORTS}{job.pk}/change/").content.decode()
    assert 'data-import-status="queued"' in page
    assert 'http-equiv="refresh"' in page


def test_the_company_list_links_to_the_upload_and_keeps_its_export(staff_client, db):
    page = staff_client.get(COMPANIES).content.decode()
    assert f'href="{IMPORTS}add/"' in page and 'data-action="registry-import"' in page
    assert f"{COMPANIES}export/" in page
    assert f"{COMPANIES}import/" not in page  # files go through the job, not row by row


def test_deleting_a_job_deletes_its_stored_files(staff_client, db, media):
    job = RegistryImportFactory()
    run_registry_import(job.pk)
    stored = media / RegistryImport.objects.get().file.name
    assert stored.exists()
    response = staff_client.post(f"{IMPORTS}{job.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RegistryImport.objects.exists() and not stored.exists()


def test_partner_users_cannot_upload_or_read_imports(alice_client, db):
    job = RegistryImportFactory()
    for url in (
        f"{IMPORTS}add/",
        f"{IMPORTS}{job.pk}/change/",
        f"{IMPORTS}{job.pk}/invalid-lines.csv",
    ):
        response = alice_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = alice_client.post(f"{IMPORTS}add/", {"file": SimpleUploadedFile("x.csv", GOOD)})
    assert response.status_code == 302 and not Company.objects.exists()


def test_the_upload_checks_the_csrf_token(staff):
    client = Client(enforce_csrf_checks=True)
    device = StaticDevice.objects.create(user=staff, name="backup")
    client.force_login(staff)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    response = upload(client, GOOD)
    assert response.status_code == 403
    assert not RegistryImport.objects.exists()
