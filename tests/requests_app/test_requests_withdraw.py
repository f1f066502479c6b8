"""Withdrawing a request: the partner's own, while nobody works on it yet."""

import pytest

from eligibility.taxid import protection_key
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from tests.factories import PartnerRequestFactory
from tests.requests_app.requests_helpers import make_request


@pytest.fixture
def launch(partner, alice, prospect, ae):
    return make_request(partner=partner, company=prospect, created_by=alice, assigned_ae=ae)


def withdraw(client, request, on_commit):
    with on_commit():
        return client.post(request.get_absolute_url(), {"withdraw": "yes"}, follow=True)


def test_withdrawing_a_launch_frees_the_company_records_who_and_tells_the_ae(
    alice_client, alice, launch, ae, other_partner, prospect, on_commit, mailoutbox
):
    response = withdraw(alice_client, launch, on_commit)
    launch.refresh_from_db()
    assert launch.status == RequestStatus.WITHDRAWN
    assert 'data-status="withdrawn"' in response.content.decode()
    event = launch.events.last()
    assert (event.from_status, event.to_status, event.actor) == ("submitted", "withdrawn", alice)
    (mail,) = mailoutbox
    assert mail.to == [ae.email] and launch.reference in mail.subject
    # The protection ends at once: another partner may now hold the company.
    PartnerRequestFactory(partner=other_partner, company=prospect)
    assert PartnerRequest.objects.filter(
        protection_key=protection_key(prospect.country, prospect.tax_id),
        status=RequestStatus.SUBMITTED,
    ).exists()


def test_a_pending_bulk_launch_and_an_upsell_can_be_withdrawn(
    alice_client, partner, alice, prospect, client_company, on_commit, settings, mailoutbox
):
    pending = make_request(
        partner=partner, company=prospect, status=RequestStatus.PENDING_APPROVAL, created_by=alice
    )
    upsell = make_request(
        partner=partner, company=client_company, kind=RequestKind.UPSELL, created_by=alice
    )
    withdraw(alice_client, pending, on_commit)
    withdraw(alice_client, upsell, on_commit)
    statuses = set(PartnerRequest.objects.values_list("status", flat=True))
    assert statuses == {RequestStatus.WITHDRAWN}
    assert [mail.to for mail in mailoutbox] == [
        [settings.DEALDESK_EMAIL],
        [settings.SALES_TEAM_EMAIL],
    ]


def test_withdrawing_twice_says_it_is_already_withdrawn(
    alice_client, launch, on_commit, mailoutbox
):
    withdraw(alice_client, launch, on_commit)
    response = withdraw(alice_client, launch, on_commit)
    html = response.content.decode()
    assert "This request was already withdrawn." in html
    assert launch.events.filter(to_status=RequestStatus.WITHDRAWN).count() == 1
    assert len(mailoutbox) == 1


def test_an_in_progress_request_cannot_be_withdrawn_and_the_page_says_why(
    alice_client, partner, alice, prospect, on_commit, mailoutbox
):
    busy = make_request(
        partner=partner, company=prospect, status=RequestStatus.IN_PROGRESS, created_by=alice
    )
    page = alice_client.get(busy.get_absolute_url()).content.decode()
    assert 'data-testid="withdraw-refusal"' in page and 'name="withdraw"' not in page
    assert "already working on this request" in page
    response = withdraw(alice_client, busy, on_commit)
    busy.refresh_from_db()
    assert busy.status == RequestStatus.IN_PROGRESS
    assert "already working on this request" in response.content.decode()
    assert mailoutbox == []


def test_a_colleague_may_withdraw_and_is_named_in_the_history(client, bob, launch, on_commit):
    client.force_login(bob)
    withdraw(client, launch, on_commit)
    assert launch.events.last().actor == bob


def test_another_partners_request_cannot_be_withdrawn(charlie_client, launch):
    response = charlie_client.post(launch.get_absolute_url(), {"withdraw": "yes"})
    assert response.status_code == 404
    launch.refresh_from_db()
    assert launch.status == RequestStatus.SUBMITTED


def test_staff_cannot_choose_withdrawn_in_the_admin(staff_client, launch):
    body = staff_client.get(f"/admin/requests_app/partnerrequest/{launch.pk}/change/")
    assert 'value="withdrawn"' not in body.content.decode()
