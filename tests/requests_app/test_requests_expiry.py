"""Protection expiry: the daily task closes launches whose protection ended and warns once."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from eligibility.services import decide_many
from requests_app.expiry import expire_protections
from requests_app.models import PartnerRequest, RequestStatus
from requests_app.tasks import expire_protections_task
from tests.factories import CompanyFactory
from tests.requests_app.requests_helpers import PROSPECT_CNPJ, make_request


def test_launches_past_their_protection_expire_and_the_partner_is_told(
    partner, other_partner, alice, prospect, on_commit, mailoutbox
):
    launch = make_request(
        partner=partner,
        company=prospect,
        created_by=alice,
        status=RequestStatus.IN_PROGRESS,
        protected_days=-1,
    )
    with on_commit():
        report = expire_protections()
    launch.refresh_from_db()
    assert report.expired == [launch.reference]
    assert launch.status == RequestStatus.EXPIRED
    event = launch.events.last()
    assert (event.from_status, event.to_status, event.actor) == ("in_progress", "expired", None)
    (mail,) = mailoutbox
    assert mail.to == [alice.email] and "Expired" in mail.subject
    assert "other partners can launch it now" in mail.body
    (decision,) = decide_many(partner=other_partner, items=[("BR", PROSPECT_CNPJ)])
    assert decision.result == "available"


def test_pending_approval_launches_expire_too(partner, prospect):
    launch = make_request(
        partner=partner, company=prospect, status=RequestStatus.PENDING_APPROVAL, protected_days=-1
    )
    expire_protections()
    launch.refresh_from_db()
    assert launch.status == RequestStatus.EXPIRED


def test_protected_and_closed_requests_are_left_alone(partner, prospect, on_commit, mailoutbox):
    current = make_request(partner=partner, company=prospect, protected_days=30)
    won = make_request(
        partner=partner,
        company=CompanyFactory(),
        status=RequestStatus.WON,
        protected_days=-5,
    )
    with on_commit():
        report = expire_protections()
    assert report.expired == [] and report.warned == []
    assert PartnerRequest.objects.get(pk=current.pk).status == RequestStatus.SUBMITTED
    assert PartnerRequest.objects.get(pk=won.pk).status == RequestStatus.WON
    assert mailoutbox == []


def test_running_twice_expires_once(partner, alice, prospect, on_commit, mailoutbox):
    launch = make_request(partner=partner, company=prospect, created_by=alice, protected_days=-1)
    with on_commit():
        expire_protections()
        second = expire_protections()
    assert second.expired == []
    assert launch.events.count() == 2 and len(mailoutbox) == 1


def test_warning_goes_out_once_a_few_days_before_expiry(
    partner, alice, prospect, on_commit, mailoutbox
):
    days = settings.PROTECTION_WARNING_DAYS - 1
    launch = make_request(partner=partner, company=prospect, created_by=alice, protected_days=days)
    with on_commit():
        first = expire_protections()
        second = expire_protections()
    assert first.warned == [launch.reference] and second.warned == []
    launch.refresh_from_db()
    assert launch.status == RequestStatus.SUBMITTED and launch.expiry_warning_sent_at
    (mail,) = mailoutbox
    assert mail.to == [alice.email]
    assert launch.reference in mail.subject
    assert date_format(launch.protected_until, "DATE_FORMAT") in mail.body  # one date format
    assert f"{settings.SITE_URL}/requests/{launch.reference}/" in mail.body


def test_no_warning_long_before_expiry(partner, prospect, on_commit, mailoutbox):
    make_request(
        partner=partner, company=prospect, protected_days=settings.PROTECTION_WARNING_DAYS + 2
    )
    with on_commit():
        assert expire_protections().warned == []
    assert mailoutbox == []


def test_time_passing_warns_then_expires(partner, alice, prospect, on_commit, mailoutbox):
    launch = make_request(partner=partner, company=prospect, created_by=alice)
    start = timezone.now()
    with on_commit():
        early = expire_protections(now=start + timedelta(days=80))
        warned = expire_protections(now=start + timedelta(days=85))
        ended = expire_protections(now=start + timedelta(days=91))
    assert early.warned == [] and warned.warned == [launch.reference]
    assert ended.expired == [launch.reference]
    assert len(mailoutbox) == 2


def test_daily_task_reports_counts(partner, prospect):
    make_request(partner=partner, company=prospect, protected_days=-1)
    assert expire_protections_task.delay().get() == {"expired": 1, "warned": 0}


def test_daily_task_is_scheduled_under_its_name():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert expire_protections_task.name in tasks
