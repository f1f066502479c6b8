"""Fault injection on the real services: a server whose Redis is gone, a broker that is away.

A gunicorn process serves the test database with production settings (plain HTTP). With the
cache and the broker at a closed port, every page either works or shows the app's error page
with a reference, and what was recorded keeps its e-mails and jobs in the outbox; with only
the broker away, the user is told it worked, and once it is back every e-mail leaves exactly
once and the bulk job finishes, with no sweep involved.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import AE_GROUP
from bulk.models import BulkCheckJob
from core.emails import send_recorded_email
from core.models import OutboxMessage
from core.outbox import relay
from eligibility.models import EligibilityCheck
from requests_app.models import PartnerRequest
from support.models import ProblemReport
from tests.bulk.bulk_helpers import cnpj, csv_bytes
from tests.factories import PASSWORD, CompanyFactory, StaffFactory
from tests.requests_app.requests_helpers import NEW_CNPJ, launch_post
from tests.server_helpers import (
    CLOSED_PORT_REDIS,
    Answer,
    Browser,
    Server,
    is_error_page_with_reference,
)
from tests.worker_helpers import finished, mailed_messages, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SEND_EMAIL = "core.send_email"


CLIENT, PROSPECT = cnpj(11_111_111), cnpj(33_333_333)


@pytest.fixture
def registry(db):
    """A client and a prospect for the bulk file."""
    CompanyFactory(tax_id=CLIENT, client=True)
    CompanyFactory(tax_id=PROSPECT)


@pytest.fixture
def ae(db):
    """The AE a launch is assigned to (and e-mailed)."""
    user = StaffFactory(email="ae@wellhub.example", full_name="Alex Account")
    user.groups.add(Group.objects.get_or_create(name=AE_GROUP)[0])
    return user


@pytest.fixture
def server(uses_real_services, tmp_path):
    started: list[Server] = []

    def start(**env: str) -> Server:
        started.append(Server(tmp_path / "server.log", SECRET_KEY=settings.SECRET_KEY, **env))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def _no_bare_failure(answer: Answer, server: Server) -> None:
    """Worked, or the app's own error page with the request's reference (never a bare 500)."""
    assert answer.status != 500, server.logs()
    if answer.status >= 400:
        assert is_error_page_with_reference(answer), (answer.status, answer.body[:500])


def _signed_in(browser: Browser, user) -> Browser:
    """Carry a session made in this process over to the server (sessions are in the database)."""
    client = Client()
    client.force_login(user)
    browser.set_cookie(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    return browser


def _bulk_file() -> bytes:
    return csv_bytes([{"tax_id": CLIENT}, {"tax_id": PROSPECT}])


def test_with_redis_gone_pages_work_or_show_the_error_page_and_nothing_is_lost(
    server, alice, registry, ae
):
    web = server(REDIS_URL=CLOSED_PORT_REDIS)

    # Sign-in needs the rate limits, which live in the cache: refused, never unlimited.
    anonymous = Browser(web.base)
    answer = anonymous.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    _no_bare_failure(answer, web)
    assert answer.status == 503
    assert "try again" in answer.body.lower()
    assert anonymous.get("/").status == 302, "not signed in"

    # A signed-in partner keeps working: sessions are read from the database.
    browser = _signed_in(Browser(web.base), alice)
    home = browser.get("/")
    assert home.status == 200 and "data-partner-name" in home.body

    check = browser.post(
        "/eligibility/check/", {"country": "BR", "tax_id": NEW_CNPJ, "company_name": "New Co"}
    )
    _no_bare_failure(check, web)
    assert 'data-eligibility="available"' in check.body
    assert EligibilityCheck.objects.filter(user=alice, tax_id=NEW_CNPJ).exists()

    form = browser.get(f"/requests/new/launch/?country=BR&tax_id={NEW_CNPJ}")
    assert form.status == 200
    launch = browser.post("/requests/new/launch/", launch_post())
    _no_bare_failure(launch, web)
    assert launch.status == 302 and "/requests/RH-" in launch.location
    created = PartnerRequest.objects.get(partner=alice.partner, company__tax_id=NEW_CNPJ)
    assert browser.get(launch.location).status == 200

    upload = browser.post(
        "/eligibility/bulk/",
        {"mode": "check"},
        files={"file": ("companies.csv", _bulk_file(), "text/csv")},
    )
    _no_bare_failure(upload, web)
    assert upload.status == 302
    job = BulkCheckJob.objects.get(partner=alice.partner)

    report = browser.post(
        "/support/report/", {"email": alice.email, "description": "The page is slow today."}
    )
    _no_bare_failure(report, web)
    # Refused (its limit lives in the cache) with nothing stored, or stored and sent.
    assert (report.status, ProblemReport.objects.count()) in {(503, 0), (302, 1)}

    # Nothing recorded lost its side effects: they wait in the outbox for the broker.
    waiting = OutboxMessage.objects.filter(published_at__isnull=True)
    emails = waiting.filter(task=SEND_EMAIL)
    assert emails.count() >= 2, "the AE's and the partner's e-mails of the launch"
    assert all(message.last_error for message in waiting)
    assert waiting.filter(task__startswith="bulk.", kwargs={"job_id": job.pk}).exists()
    assert created.reference in "".join(str(m.payload) for m in emails)

    health = browser.get("/healthz")
    assert health.status == 503
    assert '"pending": ' in health.body


def test_broker_away_then_back_every_email_once_and_the_job_finishes(
    server, alice, registry, ae, workers
):
    web = server(REDIS_URL=settings.REDIS_URL, CELERY_BROKER_URL=CLOSED_PORT_REDIS)
    browser = _signed_in(Browser(web.base), alice)

    launch = browser.post("/requests/new/launch/", launch_post())
    assert launch.status == 302 and "/requests/RH-" in launch.location, launch.body[:500]
    page = browser.get(launch.location)
    assert page.status == 200 and "sent" in page.body  # the user is told it worked

    upload = browser.post(
        "/eligibility/bulk/",
        {"mode": "check"},
        files={"file": ("companies.csv", _bulk_file(), "text/csv")},
    )
    assert upload.status == 302, upload.body[:500]
    job = BulkCheckJob.objects.get(partner=alice.partner)
    assert job.status == BulkCheckJob.Status.QUEUED
    launch_emails = OutboxMessage.objects.filter(task=SEND_EMAIL)
    assert launch_emails.count() == 2
    assert not OutboxMessage.objects.filter(published_at__isnull=False).exists()

    # The broker is back and a worker with it: the backlog leaves, the job runs at once.
    workers()
    job = wait_for(lambda: finished(job.pk), timeout=60, what="the job", log=workers.log)
    assert job.status == BulkCheckJob.Status.DONE, job.error_message
    every_email = OutboxMessage.objects.filter(task=SEND_EMAIL)
    wait_for(
        lambda: not every_email.filter(done_at__isnull=True).exists(),
        timeout=30,
        what="every e-mail",
        log=workers.log,
    )
    assert every_email.count() == 3, "the AE's, the partner's and the bulk report"
    assert len(mailed_messages(workers.mail_dir)) == 3

    # A second delivery of any of them sends nothing, and the relay has nothing left.
    assert not any(send_recorded_email(message.pk) for message in every_email)
    assert relay() == 0
    assert len(mailed_messages(workers.mail_dir)) == 3
