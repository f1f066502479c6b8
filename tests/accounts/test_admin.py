"""Support's admin: second factor, filters and actions on users."""

from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import User
from accounts.services import deactivate_inactive_users
from tests.factories import PASSWORD

CHANGELIST = "/admin/accounts/user/"


def _action(client, action, users):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [u.pk for u in users]}, follow=True
    )


def test_reactivate_action_restarts_clock_and_emails(staff_client, alice, on_commit, mailoutbox):
    alice.is_active = False
    alice.deactivation_reason = "inactivity"
    alice.last_login = timezone.now() - timedelta(days=50)
    alice.save()
    with on_commit():
        _action(staff_client, "reactivate", [alice])
    alice.refresh_from_db()
    assert alice.is_active and alice.deactivation_reason == ""
    assert alice.reactivated_at > timezone.now() - timedelta(minutes=1)
    assert [m.to for m in mailoutbox] == [[alice.email]]


def _save_change_form(client, user, **changes):
    """Post the user's admin change form as staff would, with `changes` applied."""
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "partner": user.partner_id or "",
        "login_mode": user.login_mode,
        "language": user.language,
        "time_zone": user.time_zone,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        **changes,
    }
    form = {
        name: ("on" if value is True else value)
        for name, value in data.items()
        if value is not False
    }
    response = client.post(f"{CHANGELIST}{user.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()


def test_the_user_form_has_no_active_box(staff_client, alice):
    page = staff_client.get(f"{CHANGELIST}{alice.pk}/change/").content.decode()
    assert 'name="is_active"' not in page
    assert "Reactivate and Block" in page  # the form says how the status changes


def test_posting_active_changes_nothing_reactivation_is_an_action(
    staff_client, alice, on_commit, mailoutbox
):
    alice.is_active = False
    alice.deactivation_reason = "inactivity"
    alice.deactivated_at = timezone.now() - timedelta(days=2)
    alice.save()
    with on_commit():
        _save_change_form(staff_client, alice, is_active=True)
    assert not alice.is_active and alice.deactivation_reason == "inactivity"
    assert mailoutbox == []
    with on_commit():
        _action(staff_client, "reactivate", [alice])
    alice.refresh_from_db()
    assert alice.is_active and alice.deactivation_reason == "" and alice.deactivated_at is None
    assert [m.to for m in mailoutbox] == [[alice.email]]
    # The clock restarted at the reactivation: the nightly run leaves her be.
    assert deactivate_inactive_users().deactivated == []


def test_unticking_active_does_not_block_the_action_does(staff_client, alice):
    _save_change_form(staff_client, alice, is_active=False)
    assert alice.is_active and alice.deactivation_reason == ""
    _action(staff_client, "block", [alice])
    alice.refresh_from_db()
    assert not alice.is_active and alice.deactivation_reason == "blocked"
    assert alice.deactivated_at > timezone.now() - timedelta(minutes=1)


def test_saving_other_fields_leaves_the_status_alone(staff_client, alice, on_commit, mailoutbox):
    with on_commit():
        _save_change_form(staff_client, alice, full_name="Alice Renamed")
    assert alice.full_name == "Alice Renamed"
    assert alice.is_active and alice.deactivation_reason == "" and alice.reactivated_at is None
    assert mailoutbox == []


def test_the_reason_is_not_typed_in_by_hand(staff_client, alice):
    _save_change_form(staff_client, alice, deactivation_reason="blocked")
    assert alice.is_active and alice.deactivation_reason == ""


def test_block_action_sets_reason(staff_client, alice):
    _action(staff_client, "block", [alice])
    alice.refresh_from_db()
    assert not alice.is_active and alice.deactivation_reason == "blocked"


def test_resend_welcome_action(staff_client, alice, on_commit, mailoutbox):
    with on_commit():
        _action(staff_client, "send_welcome", [alice])
    assert [m.subject for m in mailoutbox] == ["[Reseller Hub] Welcome to Reseller Hub"]


def test_user_list_filters_by_deactivation_reason(staff_client, alice, bob):
    bob.is_active = False
    bob.deactivation_reason = "blocked"
    bob.save()
    body = staff_client.get(CHANGELIST, {"deactivation_reason__exact": "blocked"}).content
    assert bob.email in body.decode() and alice.email not in body.decode()


def test_user_list_filters_by_last_login(staff_client, alice, bob):
    User.objects.filter(pk=alice.pk).update(last_login=None)
    User.objects.filter(pk=bob.pk).update(last_login=timezone.now() - timedelta(days=3))
    page = staff_client.get(CHANGELIST)
    assert "By last login" in page.content.decode()
    never = staff_client.get(CHANGELIST, {"last_login__isnull": "True"}).content.decode()
    assert alice.email in never and bob.email not in never
    since = (timezone.now() - timedelta(days=7)).isoformat()
    recent = staff_client.get(CHANGELIST, {"last_login__gte": since}).content.decode()
    assert bob.email in recent and alice.email not in recent


def test_adding_a_user_in_the_admin_sends_the_welcome(staff_client, partner, on_commit, mailoutbox):
    with on_commit():
        staff_client.post(
            "/admin/accounts/user/add/",
            {
                "email": "fresh@acme.example",
                "full_name": "Fresh Person",
                "partner": partner.pk,
                "login_mode": "password",
            },
        )
    assert User.objects.filter(email="fresh@acme.example", partner=partner).exists()
    assert [m.to for m in mailoutbox] == [["fresh@acme.example"]]


def test_partner_users_cannot_open_the_admin(alice_client):
    response = alice_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_password_alone_does_not_open_the_admin(client, staff):
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert 'name="otp_token"' in client.get(response["Location"]).content.decode()


def test_staff_signs_in_to_the_admin_with_a_backup_code(client, staff):
    device = StaticDevice.objects.create(user=staff, name="backup")
    device.token_set.create(token="abcd1234")
    client.post(
        "/admin/login/",
        {
            "username": staff.email,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": "abcd1234",
        },
    )
    assert client.get("/admin/").status_code == 200
    assert not device.token_set.exists()  # a backup code works once
