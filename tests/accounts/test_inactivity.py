"""The 35-day rule: one service behind the beat task and the command."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from accounts.services import deactivate_idle_users, deactivate_inactive_users, reactivate_user
from accounts.tasks import deactivate_inactive_users_task
from tests.factories import StaffFactory, UserFactory


def _idle_user(partner, days: float, **fields) -> User:
    now = timezone.now()
    return UserFactory(
        partner=partner,
        last_login=now - timedelta(days=days),
        date_joined=now - timedelta(days=400),
        **fields,
    )


@pytest.mark.parametrize(("days_idle", "deactivated"), [(34, False), (35, True), (36, True)])
def test_boundary_days(partner, days_idle, deactivated):
    user = _idle_user(partner, days_idle)
    deactivate_inactive_users()
    user.refresh_from_db()
    assert user.is_active is not deactivated
    if deactivated:
        assert user.deactivation_reason == "inactivity"
        assert user.deactivated_at is not None


def test_invitee_who_never_signed_in_counts_from_the_invitation(partner):
    now = timezone.now()
    recent = UserFactory(
        partner=partner,
        last_login=None,
        invited_at=now - timedelta(days=20),
        date_joined=now - timedelta(days=100),
    )
    stale = UserFactory(
        partner=partner,
        last_login=None,
        invited_at=now - timedelta(days=40),
        date_joined=now - timedelta(days=100),
    )
    deactivate_inactive_users()
    recent.refresh_from_db()
    stale.refresh_from_db()
    assert recent.is_active and not stale.is_active


def test_reactivation_restarts_the_clock(partner, on_commit, mailoutbox):
    user = _idle_user(partner, 60, is_active=False, deactivation_reason="inactivity")
    with on_commit():
        reactivate_user(user=user)
    deactivate_inactive_users()
    user.refresh_from_db()
    assert user.is_active and user.deactivation_reason == ""
    assert [m.subject for m in mailoutbox] == [
        "[Reseller Hub] Your Reseller Hub account is active again"
    ]
    # 36 days after the reactivation, the clock has run out again.
    deactivate_inactive_users(now=timezone.now() + timedelta(days=36))
    user.refresh_from_db()
    assert not user.is_active


def test_a_sign_in_between_selection_and_update_keeps_the_account(partner):
    signs_in = _idle_user(partner, 40)
    stays_idle = _idle_user(partner, 40)
    now = timezone.now()
    selected = deactivate_inactive_users(now=now, dry_run=True).deactivated
    assert sorted(selected) == sorted([signs_in.email, stays_idle.email])
    User.objects.filter(pk=signs_in.pk).update(last_login=timezone.now())

    assert deactivate_idle_users(selected, now=now, days=35) == [stays_idle.email]
    signs_in.refresh_from_db()
    stays_idle.refresh_from_db()
    assert signs_in.is_active and signs_in.deactivation_reason == ""
    assert signs_in.deactivated_at is None
    assert not stays_idle.is_active and stays_idle.deactivation_reason == "inactivity"


def test_a_reactivation_between_selection_and_update_is_respected(partner, on_commit):
    user = _idle_user(partner, 40)
    now = timezone.now()
    selected = deactivate_inactive_users(now=now, dry_run=True).deactivated
    User.objects.filter(pk=user.pk).update(
        is_active=False, deactivation_reason="inactivity", deactivated_at=now
    )
    with on_commit():
        reactivate_user(user=User.objects.get(pk=user.pk))

    assert deactivate_idle_users(selected, now=now, days=35) == []
    user.refresh_from_db()
    assert user.is_active and user.reactivated_at is not None


def test_staff_are_never_deactivated(db):
    staff = StaffFactory(last_login=timezone.now() - timedelta(days=200))
    deactivate_inactive_users()
    staff.refresh_from_db()
    assert staff.is_active


def test_warning_goes_out_a_week_before_and_only_once(partner, on_commit, mailoutbox):
    user = _idle_user(partner, 29)
    with on_commit():
        first = deactivate_inactive_users()
        second = deactivate_inactive_users()
    assert first.warned == [user.email] and second.warned == []
    assert len(mailoutbox) == 1
    assert "will be deactivated" in mailoutbox[0].subject
    assert (user.last_login + timedelta(days=35)).strftime("%Y") in mailoutbox[0].body


def test_no_warning_before_the_last_week(partner, mailoutbox):
    _idle_user(partner, 27)
    assert deactivate_inactive_users().warned == []


def test_running_twice_changes_nothing_more(partner):
    user = _idle_user(partner, 40)
    deactivate_inactive_users()
    user.refresh_from_db()
    first_stamp = user.deactivated_at
    report = deactivate_inactive_users()
    user.refresh_from_db()
    assert report.deactivated == [] and user.deactivated_at == first_stamp


def test_blocked_users_keep_their_reason(partner):
    user = _idle_user(partner, 90, is_active=False, deactivation_reason="blocked")
    deactivate_inactive_users()
    user.refresh_from_db()
    assert user.deactivation_reason == "blocked"


def test_command_dry_run_reports_and_changes_nothing(partner, capsys):
    user = _idle_user(partner, 50)
    call_command("deactivate_inactive_users", "--dry-run")
    out = capsys.readouterr().out
    user.refresh_from_db()
    assert user.is_active
    assert f"Would deactivate: {user.email}" in out


def test_command_with_days_option(partner, capsys):
    user = _idle_user(partner, 12)
    call_command("deactivate_inactive_users", "--days", "10")
    user.refresh_from_db()
    assert not user.is_active
    assert "Deactivated 1 user(s)" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["0", "-3"])
def test_command_refuses_non_positive_days(partner, bad):
    user = _idle_user(partner, 50)
    with pytest.raises(CommandError, match="positive"):
        call_command("deactivate_inactive_users", "--days", bad)
    user.refresh_from_db()
    assert user.is_active


def test_command_refuses_non_numeric_days(db):
    with pytest.raises(CommandError):
        call_command("deactivate_inactive_users", "--days", "many")


def test_beat_task_uses_the_same_rule(partner):
    user = _idle_user(partner, 35)
    assert deactivate_inactive_users_task.delay().get() == {"deactivated": 1, "warned": 0}
    user.refresh_from_db()
    assert not user.is_active


def test_daily_schedule_is_registered(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deactivate-inactive-users"]
    assert entry["task"] == deactivate_inactive_users_task.name
    assert entry["schedule"] == timedelta(days=1)
