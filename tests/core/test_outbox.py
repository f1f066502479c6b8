"""The outbox: e-mails and tasks recorded with the data, published after commit, sent once."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from core.emails import queue_email, send_email_task, send_recorded_email
from core.models import OutboxMessage
from core.outbox import backlog, relay
from tests.factories import OutboxMessageFactory


def _email(to="someone@example.com"):
    return queue_email("reactivated", to, {"user": None, "login_url": "http://x/", "days": 35})


class Broker:
    """A real broker is configured (tasks are not run in-process) but it does not answer."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def away(self) -> None:
        celery_app.conf.task_always_eager = False
        refused = mock.Mock(side_effect=OperationalError("Error 111. Connection refused."))
        task = celery_app.tasks[send_email_task.name]  # the task itself, not its proxy
        self.monkeypatch.setattr(type(task), "apply_async", refused)

    def back(self) -> None:
        """The broker answers again (here it runs the tasks in-process, as the tests do)."""
        self.monkeypatch.undo()
        celery_app.conf.task_always_eager = True


@pytest.fixture
def broker_away(monkeypatch):
    broker = Broker(monkeypatch)
    broker.away()
    yield broker
    broker.back()


def test_an_email_is_recorded_with_the_data_and_sent_after_commit(db, on_commit, mailoutbox):
    with on_commit():
        with transaction.atomic():
            _email()
            assert OutboxMessage.objects.count() == 1
            assert not mailoutbox, "nothing leaves before the commit"
    assert len(mailoutbox) == 1
    message = OutboxMessage.objects.get()
    assert message.published_at and message.done_at


def test_a_rolled_back_use_case_leaves_no_email(db, on_commit, mailoutbox):
    with on_commit():
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                _email()
                raise RuntimeError("the use case failed")
    assert not OutboxMessage.objects.exists()
    assert not mailoutbox


def test_a_recorded_email_is_sent_once_however_often_it_is_delivered(db, mailoutbox):
    _email()
    message = OutboxMessage.objects.get()
    assert send_recorded_email(message.pk) is True
    assert send_recorded_email(message.pk) is False
    send_email_task.apply(kwargs={"outbox_id": message.pk})
    assert len(mailoutbox) == 1


def test_with_the_broker_away_the_row_waits_and_the_caller_is_not_failed(
    db, on_commit, broker_away, mailoutbox
):
    with on_commit():
        _email()
    message = OutboxMessage.objects.get()
    assert message.published_at is None
    assert "Connection refused" in message.last_error
    assert message.attempts == 1
    assert backlog().pending == 1
    assert not mailoutbox


def test_the_relay_publishes_the_backlog_once_the_broker_answers(
    db, on_commit, broker_away, mailoutbox
):
    with on_commit():
        _email("a@example.com")
        _email("b@example.com")
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 2
    broker_away.back()
    assert relay() == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.com", "b@example.com"]
    assert relay() == 0
    assert len(mailoutbox) == 2


def test_a_row_taken_by_another_relay_is_left_alone(db, broker_away):
    # Another relay holds its lease for 20 more seconds.
    OutboxMessageFactory(next_attempt_at=timezone.now() + timedelta(seconds=20))
    assert relay() == 0
    assert OutboxMessage.objects.get().attempts == 0


def test_health_shows_the_backlog_and_fails_when_it_is_stale(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    OutboxMessageFactory()
    OutboxMessageFactory(published_at=timezone.now())  # gone already: not counted
    data = client.get("/healthz").json()
    assert data["outbox"]["pending"] == 1
    assert data["checks"]["outbox"] == "ok"
    OutboxMessage.objects.filter(published_at__isnull=True).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"].startswith("error: 1 waiting")


def test_a_launch_with_the_broker_away_is_a_success_for_the_user(
    alice_client, on_commit, broker_away
):
    from requests_app.models import PartnerRequest
    from tests.requests_app.requests_helpers import launch_post

    with on_commit():
        response = alice_client.post("/requests/new/launch/", launch_post())
    assert response.status_code == 302
    launch = PartnerRequest.objects.get()
    assert response["Location"] == launch.get_absolute_url()
    waiting = OutboxMessage.objects.filter(task="core.send_email", published_at__isnull=True)
    assert waiting.count() >= 1


def test_staff_see_what_waits_in_the_outbox_and_cannot_edit_it(staff_client):
    waiting = OutboxMessageFactory(last_error="OperationalError('Connection refused')")
    page = staff_client.get("/admin/core/outboxmessage/")
    assert page.status_code == 200
    assert "Connection refused" in page.content.decode()
    assert staff_client.get("/admin/core/outboxmessage/add/").status_code == 403
    detail = staff_client.get(f"/admin/core/outboxmessage/{waiting.pk}/change/")
    assert detail.status_code == 200
    assert "someone@example.com" not in detail.content.decode()


def test_partners_cannot_see_the_outbox(alice_client):
    response = alice_client.get("/admin/core/outboxmessage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
