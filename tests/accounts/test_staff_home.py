"""The admin as each role's workspace: the home page, names, Tax IDs, refusals explained."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from requests_app.models import RequestStatus
from tests.accounts.staff_helpers import make_staff, sign_in
from tests.factories import CompanyFactory, PartnerRequestFactory, UserFactory

pytestmark = pytest.mark.django_db
REQUESTS = "/admin/requests_app/partnerrequest/"


def _panels(body):
    return dict(re.findall(r'data-panel="([a-z-]+)".*?data-count="(\d+)"', body, re.S))


def _home(role, **fields):
    user = make_staff(role, **fields)
    client = sign_in(Client(), user)
    return client, user


def test_an_ae_home_counts_my_open_launches():
    client, ae = _home("ae")
    for _ in range(2):
        PartnerRequestFactory(assigned_ae=ae)
    PartnerRequestFactory(assigned_ae=ae, status=RequestStatus.WON)
    PartnerRequestFactory()  # someone else's
    body = client.get("/admin/").content.decode()
    assert _panels(body) == {"my-open-launches": "2"}
    link = re.search(r'data-panel="my-open-launches">\s*<th[^>]*><a href="([^"]+)"', body)
    listed = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert listed.count('class="action-select"') == 2


def test_the_dealdesk_home_counts_bulk_launches_waiting():
    client, _ = _home("dealdesk")
    PartnerRequestFactory(status=RequestStatus.PENDING_APPROVAL)
    PartnerRequestFactory()
    assert _panels(client.get("/admin/").content.decode()) == {"bulk-launches-waiting": "1"}


def test_the_support_home_counts_open_reports_and_recent_deactivations():
    from support.models import ProblemReport

    client, _ = _home("support")
    ProblemReport.objects.create(email="a@acme.example", description="Broken")
    ProblemReport.objects.create(email="b@acme.example", description="Done", status="closed")
    UserFactory(is_active=False, deactivation_reason="blocked", deactivated_at=timezone.now())
    UserFactory(
        is_active=False,
        deactivation_reason="inactivity",
        deactivated_at=timezone.now() - timedelta(days=60),
    )
    body = client.get("/admin/").content.decode()
    assert _panels(body) == {"open-problem-reports": "1", "recently-deactivated": "1"}
    assert "My open launches" not in body and "Open problem reports" in body


def test_sections_read_as_people_name_them():
    client, _ = _home(None)
    body = client.get("/admin/").content.decode()
    for raw in ("OTP_STATIC", "OTP_TOTP", "Otp_Static", "Otp_Totp"):
        assert raw not in body
    captions = re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>", body)
    assert len(captions) == len(set(captions))
    assert {"Partners and users", "Second factor", "Company registry"} <= set(captions)


def test_tax_ids_are_formatted_and_people_named():
    client, ae = _home("ae", full_name="Alex Account")
    company = CompanyFactory(tax_id="11222333000181", legal_name="Formatted Ltda")
    PartnerRequestFactory(company=company, assigned_ae=ae)
    body = client.get(f"{REQUESTS}?queue=all").content.decode()
    assert "11.222.333/0001-81" in body and "Alex Account" in body
    registry = client.get("/admin/eligibility/company/").content.decode()
    assert "11.222.333/0001-81" in registry


def test_a_status_action_explains_a_refusal():
    client, ae = _home("ae")
    upsell = PartnerRequestFactory(upsell=True, assigned_ae=ae)
    response = client.post(
        REQUESTS,
        {"action": "approve_followups", "_selected_action": [upsell.pk]},
        follow=True,
    )
    assert f"{upsell.reference} is submitted; mark it in progress first." in (
        response.content.decode()
    )
    won = PartnerRequestFactory(assigned_ae=ae, status=RequestStatus.WON)
    response = client.post(
        REQUESTS, {"action": "mark_lost", "_selected_action": [won.pk]}, follow=True
    )
    assert f"{won.reference} is won, so it cannot become lost." in response.content.decode()
