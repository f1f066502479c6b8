"""The check's answers name the partner's own requests and the next step for the others."""

from datetime import timedelta

import pytest
from django.utils import timezone

from eligibility.decision import (
    NO_OFFERS,
    Asker,
    ClientOffers,
    Holding,
    OpenFollowup,
    OpenLaunch,
    ProductLine,
    RegistryLine,
    decide,
    reason_messages,
)
from requests_app.models import RequestKind, RequestStatus
from tests.eligibility.test_eligibility_views import (
    CNPJ,
    action_links,
    client_company,
    post_check,
    result_of,
)
from tests.factories import CompanyFactory, PartnerRequestFactory, StaffFactory, SubscriptionFactory

HEAD = "45723174000110"
GYM = ProductLine(1, "gym", "Gym access")
PLUS = ProductLine(2, "plus", "Plus")
ASKER = Asker(partner_id=7, takeover_refusal="", messages=reason_messages())


def _client(offers):
    family = [RegistryLine(1, "BR", HEAD, "Acme SA", "client")]
    return decide(
        country="BR", tax_id=HEAD, family=family, open_launch=None, offers=offers, asker=ASKER
    )


# --- The rule, over plain values -------------------------------------------------------------


def test_own_open_launch_is_named_with_its_reference_and_end_of_protection():
    until = timezone.now() + timedelta(days=30)
    ours = OpenLaunch(6, "RH-000006", 7, until)
    decision = decide(
        country="BR", tax_id=HEAD, family=[], open_launch=ours, offers=NO_OFFERS, asker=ASKER
    )
    assert decision.result == "unavailable"
    assert "Your organisation's request RH-000006 is open" in decision.message
    assert decision.own_request == ours and decision.protected_until == until


def test_someone_elses_launch_gives_the_end_of_protection_but_not_its_reference():
    until = timezone.now() + timedelta(days=3)
    theirs = OpenLaunch(5, "RH-000005", 9, until)
    decision = decide(
        country="BR", tax_id=HEAD, family=[], open_launch=theirs, offers=NO_OFFERS, asker=ASKER
    )
    assert (decision.reason, decision.own_request) == ("protected", None)
    assert decision.protected_until == until
    assert "RH-000005" not in decision.message


def test_own_open_upsell_takes_away_only_the_upsell_button():
    offers = ClientOffers(
        holdings={1: [Holding(GYM, None)]},
        active_products=[GYM, PLUS],
        open_followups={1: [OpenFollowup("upsell", "RH-000010")]},
    )
    decision = _client(offers)
    assert decision.actions == ["takeover"]
    assert decision.open_followups == [OpenFollowup("upsell", "RH-000010")]


def test_own_open_takeover_takes_away_the_takeover_button():
    offers = ClientOffers(
        holdings={1: [Holding(GYM, None)]},
        active_products=[GYM, PLUS],
        open_followups={1: [OpenFollowup("takeover", "RH-000011")]},
    )
    assert _client(offers).actions == ["upsell"]


# --- The page --------------------------------------------------------------------------------


@pytest.fixture
def products(db):
    from tests.factories import ProductFactory

    return [ProductFactory(code="gym", name="Gym access"), ProductFactory(code="plus", name="Plus")]


def _paying_client(products):
    company = client_company()
    SubscriptionFactory(company=company, product=products[0], paid_by_partner=None)
    return company


def test_own_open_launch_reads_as_the_partners_own_with_its_link_and_date(alice_client, partner):
    company = CompanyFactory(tax_id=CNPJ)
    PartnerRequestFactory(partner=partner, company=company, reference="RH-000042")
    response = post_check(alice_client, CNPJ)
    html = response.content.decode()
    assert result_of(response) == "unavailable"
    assert "request RH-000042 is open" in html
    assert 'href="/requests/RH-000042/"' in html
    assert 'data-testid="protected-until"' in html
    assert action_links(response) == {}


def test_someone_elses_protection_says_when_to_check_again_and_whom_to_ask(
    alice_client, partner, other_partner
):
    ae = StaffFactory(email="ae@wellhub.example", full_name="Ana Executive")
    partner.designated_ae = ae
    partner.save()
    company = CompanyFactory(tax_id=CNPJ, legal_name="Contested SA")
    until = timezone.now() + timedelta(days=12)
    PartnerRequestFactory(
        partner=other_partner, company=company, reference="RH-000777", protected_until=until
    )
    response = post_check(alice_client, CNPJ)
    html = response.content.decode()
    assert result_of(response) == "unavailable"
    assert "You can check this company again after" in html
    assert f'datetime="{timezone.localtime(until).isoformat()}"' in html
    assert "Ana Executive" in html and 'href="mailto:ae@wellhub.example"' in html
    assert other_partner.name not in html and "RH-000777" not in html


def test_without_a_designated_ae_the_partnerships_team_is_the_contact(
    alice_client, other_partner, settings
):
    company = CompanyFactory(tax_id=CNPJ)
    PartnerRequestFactory(partner=other_partner, company=company)
    html = post_check(alice_client, CNPJ).content.decode()
    assert f'href="mailto:{settings.PARTNERSHIPS_TEAM_EMAIL}"' in html


@pytest.mark.parametrize("kind", [RequestKind.UPSELL, RequestKind.TAKEOVER])
def test_own_open_followup_is_linked_instead_of_a_second_button(
    alice_client, partner, products, kind
):
    company = _paying_client(products)
    PartnerRequestFactory(
        partner=partner, company=company, kind=kind, reference="RH-000050", protected_until=None
    )
    response = post_check(alice_client, CNPJ)
    html = response.content.decode()
    assert result_of(response) == "client"
    assert kind not in action_links(response)
    assert len(action_links(response)) == 1  # the other kind is still offered
    assert 'href="/requests/RH-000050/"' in html


def test_another_partners_followup_and_a_closed_one_leave_the_buttons(
    alice_client, partner, other_partner, products
):
    company = _paying_client(products)
    PartnerRequestFactory(partner=other_partner, company=company, kind=RequestKind.UPSELL)
    PartnerRequestFactory(
        partner=partner, company=company, kind=RequestKind.TAKEOVER, status=RequestStatus.DECLINED
    )
    response = post_check(alice_client, CNPJ)
    assert set(action_links(response)) == {"upsell", "takeover"}
