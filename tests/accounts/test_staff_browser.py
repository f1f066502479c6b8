"""Real-browser journeys for staff: each role signs in with its second factor and works."""

import importlib
import re

import pytest
from django.apps import apps
from django_otp.oath import totp

from accounts.models import User
from requests_app.models import RequestStatus
from tests.accounts.staff_helpers import code_for, make_staff
from tests.browser_helpers import sign_in as partner_sign_in
from tests.factories import PASSWORD, PartnerRequestFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def roles(db):
    """Transactional tests empty the tables in between: grant the roles again as migrated."""
    importlib.import_module("accounts.migrations.0004_role_permissions").grant(apps, None)


def _admin_sign_in(page, user):
    device, _ = code_for(user)
    page.goto("/admin/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label(re.compile(r"^Code:?$")).fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-staff-home]").wait_for()


def _run_action(page, obj, action):
    page.locator(f'input.action-select[value="{obj.pk}"]').check()
    page.locator('select[name="action"]').select_option(action)
    page.get_by_role("button", name="Go").click()
    page.locator("ul.messagelist").wait_for()


def _other_page(page, live_server):
    return page.context.browser.new_context(base_url=live_server.url).new_page()


def test_support_reactivates_an_idle_partner_user_who_then_signs_in(page, alice, live_server):
    User.objects.filter(pk=alice.pk).update(is_active=False, deactivation_reason="inactivity")
    support = make_staff("support", full_name="Sofia Support")
    _admin_sign_in(page, support)
    page.locator('[data-panel="recently-deactivated"] a').click()
    page.get_by_role("link", name="Partners and users").first.wait_for()
    page.goto("/admin/accounts/user/?is_active__exact=0")
    _run_action(page, alice, "reactivate")
    assert "1 user reactivated." in page.locator("ul.messagelist").inner_text()

    partner_page = _other_page(page, live_server)
    partner_sign_in(partner_page, alice)
    assert partner_page.locator("[data-partner-name]").inner_text() == "Acme Resellers"


def test_an_ae_moves_a_launch_to_in_progress_and_the_partner_sees_it(
    page, alice, partner, live_server
):
    ae = make_staff("ae", full_name="Alex Account")
    launch = PartnerRequestFactory(partner=partner, created_by=alice, assigned_ae=ae)
    _admin_sign_in(page, ae)
    page.locator('[data-panel="my-open-launches"] a').click()
    _run_action(page, launch, "mark_in_progress")
    assert "1 request is now In progress." in page.locator("ul.messagelist").inner_text()

    partner_page = _other_page(page, live_server)
    partner_sign_in(partner_page, alice)
    partner_page.goto(f"/requests/{launch.reference}/")
    assert partner_page.locator(f'[data-status="{RequestStatus.IN_PROGRESS}"]').count() >= 1


def test_the_dealdesk_approves_a_bulk_launch(page, partner, alice):
    make_staff("ae", device=False)
    dealdesk = make_staff("dealdesk", full_name="Diego Dealdesk")
    pending = PartnerRequestFactory(
        partner=partner, created_by=alice, status=RequestStatus.PENDING_APPROVAL
    )
    _admin_sign_in(page, dealdesk)
    assert page.locator('[data-panel="bulk-launches-waiting"] [data-count]').inner_text() == "1"
    page.locator('[data-panel="bulk-launches-waiting"] a').click()
    _run_action(page, pending, "dealdesk_approve")
    assert re.search(r"1 request is now Approved", page.locator("ul.messagelist").inner_text())
    pending.refresh_from_db()
    assert pending.status == RequestStatus.SUBMITTED and pending.assigned_ae is not None
