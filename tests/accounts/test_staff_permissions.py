"""Each staff role sees and may do what its work needs, and nothing else — also by URL.

Every test signs in through the real admin login with the second factor on.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import AE_GROUP, DEALDESK_GROUP, SUPPORT_GROUP
from requests_app.models import RequestKind, RequestStatus
from tests.accounts.staff_helpers import action_names, make_staff, sign_in
from tests.factories import (
    CompanyFactory,
    PartnerFactory,
    PartnerRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
PARTNERS = "/admin/accounts/partner/"
REQUESTS = "/admin/requests_app/partnerrequest/"


def _as(role, **fields):
    user = make_staff(role, **fields)
    return sign_in(Client(), user), user


def _post_action(client, url, action, objects):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})


def test_the_migration_grants_each_role_only_its_work():
    def perms(name):
        return set(
            Group.objects.get(name=name).permissions.values_list(
                "content_type__app_label", "codename"
            )
        )

    assert perms(SUPPORT_GROUP) == {
        ("accounts", "view_user"),
        ("accounts", "add_user"),
        ("accounts", "change_user"),
        ("accounts", "view_partner"),
        ("accounts", "add_partner"),
        ("accounts", "change_partner"),
        ("support", "view_problemreport"),
        ("support", "change_problemreport"),
        ("support", "delete_problemreport"),
        ("requests_app", "view_partnerrequest"),
        ("requests_app", "view_requestevent"),
        ("bulk", "view_bulkcheckjob"),
    }
    assert perms(AE_GROUP) == {
        ("requests_app", "view_partnerrequest"),
        ("requests_app", "change_partnerrequest"),
        ("requests_app", "view_requestevent"),
        ("accounts", "view_partner"),
        ("eligibility", "view_company"),
        ("eligibility", "view_product"),
        ("eligibility", "view_subscription"),
    }
    assert perms(DEALDESK_GROUP) == {
        ("requests_app", "view_partnerrequest"),
        ("requests_app", "decide_bulk_launch"),
        ("requests_app", "view_requestevent"),
    }


def test_support_works_partner_users_but_only_reads_requests(on_commit, mailoutbox):
    client, _ = _as("support")
    idle = UserFactory(is_active=False, deactivation_reason="inactivity")
    other_staff = make_staff("ae", device=False)
    users = client.get(USERS).content.decode()
    assert idle.email in users and other_staff.email not in users  # staff are not support's
    assert action_names(users) == {"reactivate", "block", "send_welcome"}
    with on_commit():
        _post_action(client, USERS, "reactivate", [idle])
    idle.refresh_from_db()
    assert idle.is_active and [m.to for m in mailoutbox] == [[idle.email]]

    pending = PartnerRequestFactory(status=RequestStatus.PENDING_APPROVAL)
    body = client.get(REQUESTS).content.decode()
    assert pending.reference in body and action_names(body) == set()
    assert _post_action(client, REQUESTS, "dealdesk_approve", [pending]).status_code == 403
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING_APPROVAL
    assert client.get(f"{USERS}{other_staff.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/bulk/bulkcheckjob/").status_code == 200
    assert client.get("/admin/support/problemreport/").status_code == 200
    assert client.get("/admin/auth/group/").status_code == 403


def test_support_cannot_make_anyone_staff():
    client, support = _as("support")
    partner_user = UserFactory()
    page = client.get(f"{USERS}{partner_user.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    client.post(
        f"{USERS}{partner_user.pk}/change/",
        {
            "email": partner_user.email,
            "full_name": "Renamed",
            "partner": partner_user.partner_id,
            "login_mode": "password",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    partner_user.refresh_from_db()
    assert partner_user.full_name == "Renamed"
    assert not partner_user.is_staff and not partner_user.is_superuser


def test_an_ae_changes_request_statuses_and_only_reads_partners_and_registry():
    client, ae = _as("ae")
    mine = PartnerRequestFactory(assigned_ae=ae)
    body = client.get(REQUESTS).content.decode()
    assert action_names(body) == {
        "mark_in_progress",
        "mark_won",
        "mark_lost",
        "approve_followups",
        "decline_followups",
    }
    _post_action(client, REQUESTS, "mark_in_progress", [mine])
    mine.refresh_from_db()
    assert mine.status == RequestStatus.IN_PROGRESS

    assert client.get(USERS).status_code == 403
    partner = PartnerFactory()
    assert client.get(f"{PARTNERS}{partner.pk}/change/").status_code == 200  # to read
    refused = client.post(
        f"{PARTNERS}{partner.pk}/change/", {"name": "Hijacked", "tier": "premium"}
    )
    assert refused.status_code == 403
    company = CompanyFactory()
    registry = client.get("/admin/eligibility/company/").content.decode()
    assert company.legal_name in registry
    # Registry files are imported by background jobs; an AE may not start one.
    assert "/admin/eligibility/registryimport/add/" not in registry
    assert client.get("/admin/eligibility/registryimport/add/").status_code == 403
    assert client.get("/admin/support/problemreport/").status_code == 403


def test_an_ae_does_not_see_the_dealdesk_actions_nor_can_post_them():
    client, ae = _as("ae")
    pending = PartnerRequestFactory(status=RequestStatus.PENDING_APPROVAL, assigned_ae=ae)
    assert "dealdesk_approve" not in action_names(client.get(REQUESTS).content.decode())
    assert _post_action(client, REQUESTS, "dealdesk_approve", [pending]).status_code == 403
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING_APPROVAL


def test_an_ae_leaves_another_aes_requests_alone():
    client, ae = _as("ae")
    colleague = make_staff("ae", device=False, full_name="Carla Colleague")
    theirs = PartnerRequestFactory(assigned_ae=colleague)
    page = client.get(f"{REQUESTS}{theirs.pk}/change/").content.decode()
    assert 'name="status"' not in page  # read-only for this AE
    response = client.post(
        f"{REQUESTS}?queue=all",
        {"action": "mark_in_progress", "_selected_action": [theirs.pk]},
        follow=True,
    )
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.SUBMITTED
    assert f"{theirs.reference} is assigned to Carla Colleague." in response.content.decode()


def test_no_view_on_site_button_leads_staff_to_a_partner_page():
    client, ae = _as("ae")
    mine = PartnerRequestFactory(assigned_ae=ae)
    page = client.get(f"{REQUESTS}{mine.pk}/change/").content.decode()
    assert "View on site" not in page and mine.get_absolute_url() not in page
    assert 'href="/"' not in client.get("/admin/").content.decode()  # no "View site"


def test_the_dealdesk_approves_bulk_launches_and_changes_nothing_else(on_commit):
    client, _ = _as("dealdesk")
    make_staff("ae", device=False)  # someone to send approved launches to
    pending = PartnerRequestFactory(status=RequestStatus.PENDING_APPROVAL)
    submitted = PartnerRequestFactory()
    assert action_names(client.get(REQUESTS).content.decode()) == {
        "dealdesk_approve",
        "dealdesk_reject",
    }
    with on_commit():
        _post_action(client, REQUESTS, "dealdesk_approve", [pending])
    pending.refresh_from_db()
    assert pending.status == RequestStatus.SUBMITTED and pending.assigned_ae is not None
    assert _post_action(client, REQUESTS, "mark_in_progress", [submitted]).status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.SUBMITTED

    partner = PartnerFactory()
    assert client.get(f"{PARTNERS}{partner.pk}/change/").status_code == 403
    assert client.post(f"{PARTNERS}{partner.pk}/change/", {"name": "X"}).status_code == 403
    assert client.get(USERS).status_code == 403


def test_superusers_keep_everything():
    client, _ = _as(None)
    launch = PartnerRequestFactory(kind=RequestKind.LAUNCH)
    for url in (USERS, PARTNERS, REQUESTS, "/admin/auth/group/", "/admin/otp_totp/totpdevice/"):
        assert client.get(url).status_code == 200, url
    assert {"dealdesk_approve", "mark_in_progress"} <= action_names(
        client.get(REQUESTS).content.decode()
    )
    assert client.get(f"{REQUESTS}{launch.pk}/change/").status_code == 200
