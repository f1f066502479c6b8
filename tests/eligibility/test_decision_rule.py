"""The rule of DESIGN §4 over plain values: no database."""

from eligibility.decision import (
    NO_OFFERS,
    Asker,
    ClientOffers,
    Holding,
    OpenLaunch,
    ProductLine,
    RegistryLine,
    decide,
    reason_messages,
)

HEAD, BRANCH = "45723174000110", "45723174000200"
STANDARD, PLUS = ProductLine(1, "standard", "Standard"), ProductLine(2, "plus", "Plus")
RESELLER = Asker(partner_id=7, takeover_refusal="", messages=reason_messages())
REFERRAL = Asker(partner_id=7, takeover_refusal="reseller model only", messages=reason_messages())


def line(status, tax_id=HEAD, pk=1):
    return RegistryLine(pk, "BR", tax_id, "Acme SA", status)


def answer(family=(), tax_id=HEAD, open_launch=None, offers=NO_OFFERS, asker=RESELLER):
    decision = decide(
        country="BR",
        tax_id=tax_id,
        family=list(family),
        open_launch=open_launch,
        offers=offers,
        asker=asker,
    )
    return decision.result, decision.reason, decision.actions


def test_a_company_nobody_knows_is_available():
    assert answer() == ("available", "new_company", ["launch"])


def test_a_blocked_head_office_blocks_its_branch_but_a_client_branch_stays_a_client():
    assert answer([line("blocked")], tax_id=BRANCH)[:2] == ("unavailable", "blocked")
    family = [line("blocked"), line("client", BRANCH, pk=2)]
    assert answer(family, tax_id=BRANCH)[:2] == ("client", "client")


def test_a_branch_of_a_client_gets_its_head_offices_answer_and_offers():
    offers = ClientOffers(holdings={1: [Holding(STANDARD, None)]}, active_products=[STANDARD, PLUS])
    result, reason, actions = answer([line("client")], tax_id=BRANCH, offers=offers)
    assert (result, reason, actions) == ("client", "branch_of_client", ["upsell", "takeover"])


def test_a_referral_partner_is_told_why_it_cannot_take_over():
    offers = ClientOffers(holdings={1: [Holding(STANDARD, None)]}, active_products=[STANDARD])
    decision = decide(
        country="BR",
        tax_id=HEAD,
        family=[line("client")],
        open_launch=None,
        offers=offers,
        asker=REFERRAL,
    )
    assert decision.actions == [] and decision.takeover_refused_reason == "reseller model only"


def test_an_open_launch_protects_the_company_and_names_only_the_askers_own():
    theirs, ours = OpenLaunch(5, "RH-000005", partner_id=9), OpenLaunch(6, "RH-000006", 7)
    assert answer([line("prospect")], open_launch=theirs)[:2] == ("unavailable", "protected")
    decision = decide(
        country="BR", tax_id=HEAD, family=[], open_launch=ours, offers=NO_OFFERS, asker=RESELLER
    )
    assert (decision.reason, decision.own_request) == ("own_open_request", ours)
