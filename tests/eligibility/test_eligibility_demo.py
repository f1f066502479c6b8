"""The quickstart's demo registry: the Tax IDs seed_demo prints give the answers it promises."""

import re

from accounts import demo as accounts_demo
from accounts.models import User
from eligibility import demo
from eligibility.models import Company, Product, Subscription
from eligibility.services import check_company


def seeded():
    accounts_demo.seed()
    return demo.seed()


def test_seeding_twice_changes_nothing(db):
    first = seeded()
    counts = (Company.objects.count(), Product.objects.count(), Subscription.objects.count())
    assert seeded() == first
    assert (Company.objects.count(), Product.objects.count(), Subscription.objects.count()) == (
        counts
    )


def test_demo_products_have_the_agreed_codes_and_names(db):
    seeded()
    assert dict(Product.objects.values_list("code", "name")) == {
        "wellhub-standard": "Wellhub Standard",
        "family-members": "Family Members",
        "wellhub-plus": "Wellhub+",
        "global-digital": "Global Digital plan",
    }


def test_every_printed_tax_id_gives_the_promised_answer_to_acme(db):
    lines = seeded()
    ana = User.objects.get(email="ana@acme.example")
    answers = {}
    for who, what in lines:
        country, tax_id = re.fullmatch(r"Check (\w\w) (.+)", who).groups()
        decision = check_company(user=ana, country=country, raw_tax_id=tax_id)
        answers[tax_id] = decision
        expected = what.split(" ")[0]
        if "made by the requests demo" in what:
            expected = "available"  # until the requests demo opens its launch on it
        assert decision.result == expected, (who, what, decision.reason)
    assert {result for result in (d.result for d in answers.values())} == {
        "available",
        "client",
        "unavailable",
        "invalid",
    }


def test_client_paid_by_acme_shows_as_paid_by_acme_and_offers_upsell_only(db):
    seeded()
    ana = User.objects.get(email="ana@acme.example")
    decision = check_company(user=ana, country="BR", raw_tax_id="28.391.765/0001-19")
    assert decision.actions == ["upsell"]
    assert {h.paid_by_partner_id for h in decision.holdings} == {ana.partner_id}


def test_referral_only_demo_partner_cannot_take_over_the_mexican_client(db):
    seeded()
    bea = User.objects.get(email="bea@beta.example")
    decision = check_company(user=bea, country="MX", raw_tax_id="GFA 010203 CX4")
    assert decision.result == "client"
    assert "takeover" not in decision.actions and decision.takeover_refused_reason


def test_protected_demo_company_is_a_prospect_left_for_the_requests_demo(db):
    seeded()
    country, tax_id = demo.PROTECTED_DEMO_COMPANY
    assert Company.objects.get(country=country, tax_id=tax_id).status == "prospect"
