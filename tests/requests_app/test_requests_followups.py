"""Upsell and payment takeover requests for companies that are already clients."""

import re
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from eligibility.models import Company
from requests_app import followups
from requests_app.business_days import add_business_days
from requests_app.followups import create_followup
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from requests_app.shared import RequestRefused
from tests.factories import PartnerFactory, UserFactory
from tests.requests_app.requests_helpers import CLIENT_CNPJ, NEW_CNPJ, PROSPECT_CNPJ

UPSELL = "/requests/new/upsell/"
TAKEOVER = "/requests/new/takeover/"
CLIENT = {"country": "BR", "tax_id": CLIENT_CNPJ, "company_name": "Academia"}


def post(client, url, on_commit, products, business_model="reseller", **company):
    data = {**CLIENT, **company, "products": products, "business_model": business_model}
    with on_commit():
        return client.post(url, data)


def checkbox_values(body: str) -> set[str]:
    return set(re.findall(r'type="checkbox" name="products" value="([^"]+)"', body))


# --- Upsell -----------------------------------------------------------------------------------


def test_upsell_form_offers_only_products_the_company_lacks(alice_client, client_company):
    body = alice_client.get(UPSELL, CLIENT).content.decode()
    assert checkbox_values(body) == {"plus"}
    assert 'for="id_business_model"' in body and "<legend" in body


def test_upsell_is_created_and_the_sales_team_told(
    alice_client, alice, client_company, products, on_commit, mailoutbox
):
    response = post(alice_client, UPSELL, on_commit, ["plus"], business_model="referral")
    upsell = PartnerRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{upsell.reference}/"
    assert (upsell.kind, upsell.status, upsell.company) == ("upsell", "submitted", client_company)
    assert list(upsell.products.all()) == [products["plus"]]
    assert upsell.business_model == "referral" and upsell.due_date is None
    assert upsell.events.get().to_status == RequestStatus.SUBMITTED
    team = next(m for m in mailoutbox if m.to == [settings.SALES_TEAM_EMAIL])
    assert upsell.reference in team.subject and "Wellhub+" in team.body
    receipt = next(m for m in mailoutbox if m.to == [alice.email])
    assert f"{settings.SITE_URL}/requests/{upsell.reference}/" in receipt.body
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    "chosen", [["standard"], ["family"], ["no-such-product"], ["plus", "standard"], []]
)
def test_upsell_of_products_not_offered_is_a_form_error(
    alice_client, client_company, on_commit, mailoutbox, chosen
):
    response = post(alice_client, UPSELL, on_commit, chosen)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="products-errors"' in body
    assert not PartnerRequest.objects.exists() and mailoutbox == []


def test_upsell_business_model_the_partner_lacks_is_refused(
    alice_client, partner, client_company, on_commit
):
    partner.allows_referral = False
    partner.save()
    response = post(alice_client, UPSELL, on_commit, ["plus"], business_model="referral")
    assert "Select a valid choice" in response.content.decode()
    assert not PartnerRequest.objects.exists()


def test_upsell_for_a_company_that_is_not_a_client_is_refused(alice_client, on_commit):
    for method in ("get", "post"):
        data = {
            "country": "BR",
            "tax_id": NEW_CNPJ,
            "products": ["plus"],
            "business_model": "reseller",
        }
        response = getattr(alice_client, method)(UPSELL, data)
        body = response.content.decode()
        assert "not a Wellhub client yet" in body and 'data-testid="upsell-form"' not in body
    assert not PartnerRequest.objects.exists()


def test_upsell_tampered_to_another_client_is_checked_against_that_client(
    alice_client, client_company, products, on_commit
):
    other = Company.objects.create(country="BR", tax_id=PROSPECT_CNPJ, status="client")
    other.subscriptions.create(product=products["plus"])
    # "plus" is offered for the first client but the second one already has it.
    response = post(alice_client, UPSELL, on_commit, ["plus"], tax_id=PROSPECT_CNPJ)
    assert 'id="products-errors"' in response.content.decode()
    assert not PartnerRequest.objects.exists()


def test_double_submitted_upsell_creates_one_request_and_links_it(
    alice_client, client_company, on_commit, mailoutbox
):
    post(alice_client, UPSELL, on_commit, ["plus"])
    first = PartnerRequest.objects.get()
    response = post(alice_client, UPSELL, on_commit, ["plus"])
    body = response.content.decode()
    assert PartnerRequest.objects.count() == 1
    assert "already has an open upsell request" in body
    assert f'href="/requests/{first.reference}/"' in body
    assert len(mailoutbox) == 2  # only the first submission's e-mails
    # The colleague opening the form is told before filling it in.
    assert first.reference in alice_client.get(UPSELL, CLIENT).content.decode()


def test_a_new_upsell_is_possible_once_the_previous_one_is_answered(alice, client_company):
    first = create_followup(
        kind=RequestKind.UPSELL,
        user=alice,
        country="BR",
        tax_id=CLIENT_CNPJ,
        products=["plus"],
        business_model="reseller",
    )
    PartnerRequest.objects.filter(pk=first.pk).update(status=RequestStatus.DECLINED)
    second = create_followup(
        kind=RequestKind.UPSELL,
        user=alice,
        country="BR",
        tax_id=CLIENT_CNPJ,
        products=["plus"],
        business_model="reseller",
    )
    assert second.pk != first.pk


def test_the_database_refuses_a_second_open_upsell(alice, client_company, monkeypatch):
    first = create_followup(
        kind=RequestKind.UPSELL,
        user=alice,
        country="BR",
        tax_id=CLIENT_CNPJ,
        products=["plus"],
        business_model="reseller",
    )
    # As if a second click had passed the pre-check at the same moment: the partial unique
    # index still says no, and the partner is pointed at the first request.
    original = followups.open_followup
    calls = []

    def racing_open_followup(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else original(**kwargs)

    monkeypatch.setattr(followups, "open_followup", racing_open_followup)
    with pytest.raises(RequestRefused) as refused:
        create_followup(
            kind=RequestKind.UPSELL,
            user=alice,
            country="BR",
            tax_id=CLIENT_CNPJ,
            products=["plus"],
            business_model="reseller",
        )
    assert refused.value.reason_code == "already_open" and refused.value.existing == first
    assert PartnerRequest.objects.count() == 1


# --- Payment takeover -------------------------------------------------------------------------


def test_takeover_form_offers_products_paid_directly_and_the_answer_date(
    alice_client, client_company
):
    body = alice_client.get(TAKEOVER, CLIENT).content.decode()
    assert checkbox_values(body) == {"standard"}
    expected = add_business_days(timezone.localdate(), settings.TAKEOVER_BUSINESS_DAYS, "BR")
    assert date_format(expected, "DATE_FORMAT") in body  # the language's one date format
    # Only the reseller model can take over payment.
    assert 'value="reseller"' in body and 'value="referral"' not in body


def test_takeover_is_created_with_its_due_date_and_partnerships_told(
    alice_client, alice, client_company, products, on_commit, mailoutbox
):
    response = post(alice_client, TAKEOVER, on_commit, ["standard"])
    takeover = PartnerRequest.objects.get()
    expected = add_business_days(timezone.localdate(), 5, "BR")
    assert takeover.kind == RequestKind.TAKEOVER and takeover.due_date == expected
    assert list(takeover.products.all()) == [products["standard"]]
    page = alice_client.get(response["Location"]).content.decode()
    assert f'data-due="{expected:%Y-%m-%d}"' in page
    team = next(m for m in mailoutbox if m.to == [settings.PARTNERSHIPS_TEAM_EMAIL])
    receipt = next(m for m in mailoutbox if m.to == [alice.email])
    for mail in (team, receipt):
        assert date_format(expected, "DATE_FORMAT") in mail.body
        assert date_format(expected, "DATE_FORMAT") in mail.alternatives[0][0]


def test_takeover_due_date_skips_the_weekend_and_tiradentes(
    alice_client, alice, client_company, on_commit, monkeypatch
):
    # Submitted on Thursday 16 April 2026: Fri 17, Mon 20, (Tue 21 Tiradentes), Wed 22,
    # Thu 23, Fri 24.
    submitted = datetime(2026, 4, 16, 15, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: submitted)
    response = post(alice_client, TAKEOVER, on_commit, ["standard"])
    monkeypatch.undo()
    # The session was saved in April (its expiry date with it): sign in again, in the present.
    alice_client.force_login(alice)
    takeover = PartnerRequest.objects.get()
    assert takeover.due_date == date(2026, 4, 24)
    page = alice_client.get(response["Location"]).content.decode()
    assert 'data-due="2026-04-24"' in page


@pytest.mark.parametrize("chosen", [["family"], ["plus"], ["nope"]])
def test_takeover_of_products_not_paid_directly_is_a_form_error(
    alice_client, client_company, on_commit, chosen
):
    response = post(alice_client, TAKEOVER, on_commit, chosen)
    assert 'id="products-errors"' in response.content.decode()
    assert not PartnerRequest.objects.exists()


def test_takeover_as_referral_is_refused(alice_client, client_company, on_commit):
    response = post(alice_client, TAKEOVER, on_commit, ["standard"], business_model="referral")
    assert "Select a valid choice" in response.content.decode()
    assert not PartnerRequest.objects.exists()


def test_referral_only_partner_is_told_why_and_a_hand_made_post_creates_nothing(
    client, client_company, on_commit, mailoutbox
):
    referral_only = PartnerFactory(name="Beta Referrals", allows_reseller=False)
    client.force_login(UserFactory(partner=referral_only))
    body = client.get(TAKEOVER, CLIENT).content.decode()
    assert "needs the reseller business model" in body
    assert 'data-testid="takeover-form"' not in body
    response = post(client, TAKEOVER, on_commit, ["standard"])
    assert response.status_code == 403
    assert "needs the reseller business model" in response.content.decode()
    assert not PartnerRequest.objects.exists() and mailoutbox == []


def test_takeover_service_refuses_referral_only_partner(client_company):
    user = UserFactory(partner=PartnerFactory(allows_reseller=False))
    with pytest.raises(RequestRefused) as refused:
        followups.create_followup(
            kind=RequestKind.TAKEOVER,
            user=user,
            country="BR",
            tax_id=CLIENT_CNPJ,
            products=["standard"],
            business_model="reseller",
        )
    assert refused.value.reason_code == "takeover_needs_reseller"


def test_double_submitted_takeover_creates_one_request(alice_client, client_company, on_commit):
    post(alice_client, TAKEOVER, on_commit, ["standard"])
    response = post(alice_client, TAKEOVER, on_commit, ["standard"])
    assert "already has an open payment takeover request" in response.content.decode()
    assert PartnerRequest.objects.count() == 1


def test_an_open_upsell_does_not_block_a_takeover(alice_client, client_company, on_commit):
    post(alice_client, UPSELL, on_commit, ["plus"])
    post(alice_client, TAKEOVER, on_commit, ["standard"])
    assert sorted(PartnerRequest.objects.values_list("kind", flat=True)) == ["takeover", "upsell"]


def test_branch_of_a_client_requests_for_the_head_office(alice_client, client_company, on_commit):
    branch = {"tax_id": "45723174000200"}  # same root, branch 0002
    response = post(alice_client, UPSELL, on_commit, ["plus"], **branch)
    assert response.status_code == 302
    assert PartnerRequest.objects.get().company == client_company
