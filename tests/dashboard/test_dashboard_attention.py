"""The dashboard's "needs your attention" panel and the current page marked in the menu."""

import re
from datetime import timedelta

from django.utils import timezone

from requests_app.models import RequestKind, RequestStatus
from tests.factories import CompanyFactory, PartnerRequestFactory


def attention(html):
    return re.findall(r'data-attention="([a-z-]+)"(?: data-reference="([^"]*)")?', html)


def test_answers_due_protections_ending_and_dealdesk_launches_need_attention(
    alice_client, partner, other_partner
):
    soon = PartnerRequestFactory(
        partner=partner,
        kind=RequestKind.TAKEOVER,
        company=CompanyFactory(client=True),
        due_date=timezone.localdate(),
        protected_until=None,
        reference="RH-000101",
    )
    PartnerRequestFactory(  # an answer due in three weeks is not urgent
        partner=partner,
        kind=RequestKind.TAKEOVER,
        company=CompanyFactory(client=True),
        due_date=timezone.localdate() + timedelta(days=21),
        protected_until=None,
    )
    ending = PartnerRequestFactory(
        partner=partner,
        protected_until=timezone.now() + timedelta(days=5),
        reference="RH-000102",
    )
    PartnerRequestFactory(partner=partner, status=RequestStatus.PENDING_APPROVAL)
    PartnerRequestFactory(  # another partner's: never shown
        partner=other_partner, protected_until=timezone.now() + timedelta(days=2)
    )
    html = alice_client.get("/").content.decode()
    assert attention(html) == [
        ("answer-due", soon.reference),
        ("protection-ending", ending.reference),
        ("pending-approval", ""),
    ]
    assert "1 bulk launch is waiting for the Dealdesk" in html
    assert 'href="/requests/?status=pending_approval"' in html


def test_nothing_to_do_says_so(alice_client, partner):
    PartnerRequestFactory(partner=partner)  # 90 days of protection left
    html = alice_client.get("/").content.decode()
    assert attention(html) == []
    assert "Nothing needs your attention right now." in html


def test_the_current_page_is_marked_in_the_menu(alice_client, partner):
    def current(url):
        html = alice_client.get(url).content.decode()
        return re.findall(r'<a class="nav-link active" aria-current="page" href="([^"]+)"', html)

    assert current("/") == ["/"]
    assert current("/eligibility/check/") == ["/eligibility/check/"]
    assert current("/eligibility/bulk/") == ["/eligibility/bulk/"]
    assert current("/requests/") == ["/requests/"]
