"""Deactivating, blocking or pausing ends the sessions for good: reactivation revives none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import UserSession
from accounts.sessions import end_sessions
from tests.factories import PASSWORD, UserSessionFactory

LOGIN = "/accounts/login/"


def _signed_out(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def _sign_in(client, user) -> None:
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_sign_in_stores_a_session_row_that_names_the_user(client, alice):
    _sign_in(client, alice)
    assert list(UserSession.objects.values_list("user_id", flat=True)) == [alice.pk]


def test_block_then_reactivate_keeps_the_old_cookie_signed_out(client, alice, bob):
    _sign_in(client, alice)
    other = client.__class__()
    _sign_in(other, bob)
    services.block_user(user=alice)
    assert not UserSession.objects.filter(user=alice).exists()
    services.reactivate_user(user=alice)
    assert _signed_out(client)
    assert not _signed_out(other), "a colleague's session is not touched"


def test_inactivity_deactivation_then_reactivation_keeps_the_old_cookie_signed_out(
    client, alice, bob
):
    _sign_in(client, alice)
    alice.refresh_from_db()
    later = timezone.now() + timedelta(days=40)
    report = services.deactivate_inactive_users(now=later, days=35)
    assert alice.email in report.deactivated
    alice.refresh_from_db()
    services.reactivate_user(user=alice)
    assert _signed_out(client)


def test_blocking_in_the_admin_then_reactivating_signs_the_old_cookie_out(
    client, staff_client, alice
):
    user_client = client.__class__()
    _sign_in(user_client, alice)
    changelist = "/admin/accounts/user/"
    selected = {"_selected_action": [alice.pk]}
    assert staff_client.post(changelist, {**selected, "action": "block"}).status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active
    assert staff_client.post(changelist, {**selected, "action": "reactivate"}).status_code == 302
    alice.refresh_from_db()
    assert alice.is_active
    assert _signed_out(user_client)


@pytest.mark.parametrize("how", ["action", "form"])
def test_pausing_a_partner_ends_its_users_sessions_and_resuming_revives_none(
    client, staff_client, alice, charlie, how
):
    alice_client, charlie_client = client.__class__(), client.__class__()
    _sign_in(alice_client, alice)
    _sign_in(charlie_client, charlie)
    partner = alice.partner
    if how == "action":
        staff_client.post(
            "/admin/accounts/partner/",
            {"action": "pause", "_selected_action": [partner.pk]},
        )
    else:
        services.set_partner_active(partner=partner, active=False)
    partner.refresh_from_db()
    assert not partner.is_active
    assert not UserSession.objects.filter(user=alice).exists()
    services.set_partner_active(partner=partner, active=True)
    assert _signed_out(alice_client)
    assert not _signed_out(charlie_client), "another partner's users stay signed in"


def test_unticking_active_on_the_partner_form_ends_the_sessions(client, staff_client, alice):
    user_client = client.__class__()
    _sign_in(user_client, alice)
    partner = alice.partner
    response = staff_client.post(
        f"/admin/accounts/partner/{partner.pk}/change/",
        {
            "name": partner.name,
            "tier": partner.tier,
            "allows_reseller": "on",
            "home_country": partner.home_country,
            "created_at_0": partner.created_at.date().isoformat(),
            "created_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    assert not partner.is_active
    assert not UserSession.objects.filter(user=alice).exists()


def test_ending_a_users_sessions_leaves_everyone_elses(alice, bob, charlie):
    UserSessionFactory.create_batch(2, user=alice)
    kept = [UserSessionFactory(user=bob), UserSessionFactory(user=charlie)]
    assert end_sessions(user=alice) == 2
    assert set(UserSession.objects.all()) == set(kept)
    assert end_sessions(partner=alice.partner) == 1  # bob's
    assert list(UserSession.objects.all()) == [kept[1]]


def test_a_stored_session_signs_its_user_in(client, alice):
    session = UserSessionFactory(user=alice)
    client.cookies["sessionid"] = session.session_key
    assert client.get("/").status_code == 200
