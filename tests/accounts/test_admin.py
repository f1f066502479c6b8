"""Support's admin: second factor, filters and actions on users."""

from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import User
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
