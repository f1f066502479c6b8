"""The eligibility decision (DESIGN §4): one function answers for every way of checking."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum.br import cnpj as stdnum_cnpj

from accounts.rules import NoActivePartner
from eligibility.models import Company, EligibilityCheck, Product, Subscription
from eligibility.services import check_company, decide_many
from eligibility.taxid import protection_key
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from tests.factories import PartnerFactory


def cnpj(root: str, branch: str = "0001") -> str:
    base = root + branch
    return base + stdnum_cnpj.calc_check_digits(base)


HEAD_OFFICE = cnpj("45723174")
BRANCH = cnpj("45723174", "0002")
NEW = cnpj("11222333")


@pytest.fixture
def products(db):
    return {
        code: Product.objects.create(code=code, name=name)
        for code, name in [
            ("wellhub-standard", "Wellhub Standard"),
            ("family-members", "Family Members"),
            ("wellhub-plus", "Wellhub+"),
        ]
    }


def company(tax_id=HEAD_OFFICE, status="prospect", country="BR", **fields):
    return Company.objects.create(country=country, tax_id=tax_id, status=status, **fields)


def subscribe(target, product, paid_by=None):
    return Subscription.objects.create(company=target, product=product, paid_by_partner=paid_by)


def open_launch(*, partner, target, status=RequestStatus.SUBMITTED):
    return PartnerRequest.objects.create(
        kind=RequestKind.LAUNCH,
        status=status,
        partner=partner,
        company=target,
        protection_key=protection_key(target.country, target.tax_id),
        business_model="reseller",
        reference=f"RH-{PartnerRequest.objects.count() + 1:06d}",
    )


def decide(partner, tax_id, country="BR"):
    (decision,) = decide_many(partner=partner, items=[(country, tax_id)])
    return decision


# --- the four answers -----------------------------------------------------------------------


def test_company_not_in_registry_is_available_to_launch(partner):
    decision = decide(partner, NEW)
    assert (decision.result, decision.reason) == ("available", "new_company")
    assert decision.actions == ["launch"]
    assert decision.company is None and decision.tax_id == NEW and decision.country == "BR"


def test_prospect_in_registry_is_available_to_launch(partner):
    prospect = company(status="prospect", legal_name="Prospect SA")
    decision = decide(partner, HEAD_OFFICE)
    assert (decision.result, decision.reason, decision.actions) == (
        "available",
        "prospect",
        ["launch"],
    )
    assert decision.company.id == prospect.pk


def test_client_is_reported_as_client_with_its_products(partner, products):
    client = company(status="client")
    subscribe(client, products["wellhub-standard"])
    decision = decide(partner, HEAD_OFFICE)
    assert (decision.result, decision.reason) == ("client", "client")
    assert decision.company.id == client.pk
    assert [h.product.code for h in decision.holdings] == ["wellhub-standard"]
    assert "launch" not in decision.actions


def test_blocked_company_is_unavailable_with_nothing_to_do(partner):
    company(status="blocked")
    decision = decide(partner, HEAD_OFFICE)
    assert (decision.result, decision.reason, decision.actions) == ("unavailable", "blocked", [])


def test_open_launch_of_another_partner_makes_the_company_unavailable(partner, other_partner):
    target = company()
    open_launch(partner=other_partner, target=target)
    decision = decide(partner, HEAD_OFFICE)
    assert (decision.result, decision.reason) == ("unavailable", "protected")
    assert decision.own_request is None and decision.actions == []
    assert other_partner.name not in decision.message


@pytest.mark.parametrize(
    "status",
    [
        RequestStatus.PENDING_APPROVAL,
        RequestStatus.APPROVED,
        RequestStatus.SUBMITTED,
        RequestStatus.IN_PROGRESS,
    ],
)
def test_every_open_launch_status_protects_the_company(partner, other_partner, status):
    open_launch(partner=other_partner, target=company(), status=status)
    assert decide(partner, HEAD_OFFICE).result == "unavailable"


@pytest.mark.parametrize(
    "status", [RequestStatus.WON, RequestStatus.LOST, RequestStatus.EXPIRED, RequestStatus.REJECTED]
)
def test_closed_launch_no_longer_protects_the_company(partner, other_partner, status):
    open_launch(partner=other_partner, target=company(), status=status)
    assert decide(partner, HEAD_OFFICE).result == "available"


def test_own_open_launch_is_unavailable_with_a_link_to_it(partner, alice):
    request = open_launch(partner=partner, target=company())
    decision = decide(partner, HEAD_OFFICE)
    assert (decision.result, decision.reason) == ("unavailable", "own_open_request")
    assert decision.own_request.id == request.pk
    assert decision.own_request.reference == request.reference


def test_open_upsell_request_does_not_protect_a_company(partner, other_partner):
    target = company()
    PartnerRequest.objects.create(
        kind=RequestKind.UPSELL,
        status=RequestStatus.SUBMITTED,
        partner=other_partner,
        company=target,
        protection_key=protection_key("BR", HEAD_OFFICE),
        business_model="reseller",
    )
    assert decide(partner, HEAD_OFFICE).result == "available"


def test_invalid_tax_id_is_reported_as_invalid(alice):
    decision = check_company(user=alice, country="BR", raw_tax_id="11.222.333/0001-82")
    assert (decision.result, decision.reason) == ("invalid", "invalid_checksum")
    assert decision.tax_id == "" and decision.actions == [] and decision.message


def test_generic_rfc_is_not_a_company(alice):
    decision = check_company(user=alice, country="MX", raw_tax_id="XAXX010101000")
    assert (decision.result, decision.reason) == ("invalid", "generic_rfc")


def test_unsupported_country_is_an_invalid_answer_not_a_crash(alice):
    decision = check_company(user=alice, country="ZZ", raw_tax_id=NEW)
    assert (decision.result, decision.reason) == ("invalid", "unsupported_country")


# --- Brazilian branches share the root of their CNPJ -----------------------------------------


def test_branch_of_client_is_reported_as_client(partner, products):
    head_office = company(status="client", legal_name="Matriz SA")
    subscribe(head_office, products["wellhub-standard"])
    decision = decide(partner, BRANCH)
    assert (decision.result, decision.reason) == ("client", "branch_of_client")
    assert decision.company.id == head_office.pk
    assert [p.code for p in decision.takeover_products] == ["wellhub-standard"]


def test_registered_prospect_branch_of_client_is_still_a_client(partner):
    company(status="client")
    company(tax_id=BRANCH, status="prospect")
    assert decide(partner, BRANCH).result == "client"


def test_branch_of_blocked_company_is_unavailable(partner):
    company(status="blocked")
    decision = decide(partner, BRANCH)
    assert (decision.result, decision.reason) == ("unavailable", "blocked")


def test_client_keeps_its_answer_when_one_of_its_branches_is_blocked(partner):
    company(status="client")
    company(tax_id=BRANCH, status="blocked")
    assert decide(partner, HEAD_OFFICE).result == "client"
    assert decide(partner, BRANCH).result == "unavailable"


def test_branch_of_company_launched_by_another_partner_is_unavailable(partner, other_partner):
    open_launch(partner=other_partner, target=company())
    decision = decide(partner, BRANCH)
    assert (decision.result, decision.reason) == ("unavailable", "protected")


def test_branch_of_company_launched_by_own_partner_links_to_the_request(partner):
    request = open_launch(partner=partner, target=company())
    decision = decide(partner, BRANCH)
    assert (decision.result, decision.reason) == ("unavailable", "own_open_request")
    assert decision.own_request.reference == request.reference


def test_company_with_the_same_number_in_another_country_is_not_a_branch(partner):
    company(country="BR", tax_id=HEAD_OFFICE, status="blocked")
    company(country="AR", tax_id="30500010912", status="client")
    assert decide(partner, "30500010912", country="AR").result == "client"
    assert decide(partner, NEW).result == "available"


def test_alphanumeric_cnpj_branches_share_the_answer(partner):
    company(tax_id="12ABC34501DE35", status="blocked")
    branch = "12ABC3450002" + stdnum_cnpj.calc_check_digits("12ABC3450002")
    assert decide(partner, branch).result == "unavailable"


# --- formatting never changes the answer ----------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "45723174000110",
        "45.723.174/0001-10",
        " 45 723 174 0001 10 ",
        "45-723-174-0001-10",
        "４５.７２３.１７４/０００１-１０",  # fullwidth digits from a phone keyboard
        "45.723.174/0001-10\u200b",  # an invisible mark copied with the number
    ],
)
def test_formatting_variants_give_the_same_answer(alice, products, typed):
    client = company(status="client")
    subscribe(client, products["wellhub-standard"])
    decision = check_company(user=alice, country="br", raw_tax_id=typed)
    assert (decision.result, decision.tax_id, decision.company.id) == (
        "client",
        HEAD_OFFICE,
        client.pk,
    )


def test_lower_case_alphanumeric_cnpj_is_the_same_company(alice):
    company(tax_id="12ABC34501DE35", status="blocked")
    decision = check_company(user=alice, country="BR", raw_tax_id="12.abc.345/01de-35")
    assert (decision.result, decision.tax_id) == ("unavailable", "12ABC34501DE35")


# --- what a client result offers ------------------------------------------------------------


def test_upsell_lists_only_active_products_the_client_does_not_have(partner, products):
    retired = Product.objects.create(code="retired", name="Retired plan", is_active=False)
    client = company(status="client")
    subscribe(client, products["wellhub-standard"])
    decision = decide(partner, HEAD_OFFICE)
    assert {p.code for p in decision.upsell_products} == {"family-members", "wellhub-plus"}
    assert retired not in decision.upsell_products
    assert "upsell" in decision.actions


def test_client_with_every_active_product_has_no_upsell(partner, products):
    client = company(status="client")
    for product in products.values():
        subscribe(client, product, paid_by=partner)
    decision = decide(partner, HEAD_OFFICE)
    assert decision.upsell_products == [] and "upsell" not in decision.actions


def test_takeover_lists_only_products_the_client_pays_directly(partner, other_partner, products):
    client = company(status="client")
    subscribe(client, products["wellhub-standard"])  # paid directly
    subscribe(client, products["family-members"], paid_by=other_partner)
    subscribe(client, products["wellhub-plus"], paid_by=partner)
    decision = decide(partner, HEAD_OFFICE)
    assert [p.code for p in decision.takeover_products] == ["wellhub-standard"]
    assert decision.actions == ["takeover"]
    paid_by = {h.product.code: h.paid_by_partner_id for h in decision.holdings}
    assert paid_by == {
        "wellhub-standard": None,
        "family-members": other_partner.pk,
        "wellhub-plus": partner.pk,
    }


def test_client_paid_entirely_by_partners_offers_no_takeover(partner, other_partner, products):
    client = company(status="client")
    subscribe(client, products["wellhub-standard"], paid_by=other_partner)
    decision = decide(partner, HEAD_OFFICE)
    assert decision.takeover_products == [] and "takeover" not in decision.actions
    assert decision.takeover_refused_reason == ""


def test_referral_only_partner_cannot_take_over_payment(products):
    referral_only = PartnerFactory(allows_reseller=False, allows_referral=True)
    client = company(status="client")
    subscribe(client, products["wellhub-standard"])
    decision = decide(referral_only, HEAD_OFFICE)
    assert "takeover" not in decision.actions
    assert decision.actions == ["upsell"]
    assert "reseller" in decision.takeover_refused_reason
    assert [p.code for p in decision.takeover_products] == ["wellhub-standard"]


def test_client_with_an_open_launch_is_still_a_client(partner, other_partner, products):
    target = company(status="client")
    open_launch(partner=other_partner, target=target)
    assert decide(partner, HEAD_OFFICE).result == "client"


# --- many at once ---------------------------------------------------------------------------


def test_decisions_come_back_in_the_order_asked(partner, products):
    company(tax_id=HEAD_OFFICE, status="client")
    company(tax_id=cnpj("90246183"), status="blocked")
    items = [("BR", NEW), ("BR", cnpj("90246183")), ("BR", HEAD_OFFICE), ("BR", BRANCH)]
    results = [d.result for d in decide_many(partner=partner, items=items)]
    assert results == ["available", "unavailable", "client", "client"]


def test_no_items_need_no_queries(partner, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert decide_many(partner=partner, items=[]) == []


def _registry(count, products, other_partner):
    items = []
    for i in range(count):
        root = f"{30000000 + i:08d}"
        target = company(tax_id=cnpj(root), status="client" if i % 3 == 0 else "prospect")
        if i % 3 == 0:
            subscribe(target, products["wellhub-standard"])
            subscribe(target, products["family-members"], paid_by=other_partner)
        elif i % 3 == 1:
            open_launch(partner=other_partner, target=target)
        items.append(("BR", target.tax_id))
        items.append(("BR", cnpj(root, "0002")))
    return items


def test_decide_many_costs_the_same_queries_for_one_or_fifty_companies(
    partner, other_partner, products
):
    items = _registry(25, products, other_partner)
    clients = [item for n, item in enumerate(items) if n // 2 % 3 == 0]  # heads and branches
    with CaptureQueriesContext(connection) as one:
        decide_many(partner=partner, items=items[:1])
    with CaptureQueriesContext(connection) as many_clients:
        decide_many(partner=partner, items=clients)
    with CaptureQueriesContext(connection) as fifty:
        decisions = decide_many(partner=partner, items=items)
    assert len(decisions) == 50
    # Clients: the families, their subscriptions, the products and the partner's own open
    # upsells and takeovers for them (no open-launch lookup).
    assert len(one.captured_queries) == len(many_clients.captured_queries) == 4
    # Any mix: one more, for the open launches protecting the companies that are not clients.
    assert len(fifty.captured_queries) == 5


def test_check_company_logs_once_per_check_with_its_answer(alice, partner):
    company(status="blocked")
    check_company(user=alice, country="BR", raw_tax_id="45.723.174/0001-10", company_name="X")
    check_company(user=alice, country="ZZ", raw_tax_id="<script>")
    logged = list(
        EligibilityCheck.objects.order_by("pk").values_list(
            "user", "partner", "country", "raw_input", "tax_id", "result", "reason", "company_name"
        )
    )
    assert logged == [
        (
            alice.pk,
            partner.pk,
            "BR",
            "45.723.174/0001-10",
            HEAD_OFFICE,
            "unavailable",
            "blocked",
            "X",
        ),
        (alice.pk, partner.pk, "ZZ", "<script>", "", "invalid", "unsupported_country", ""),
    ]


def test_empty_country_means_the_partner_home_country(alice, partner):
    partner.home_country = "AR"
    partner.save()
    decision = check_company(user=alice, country="", raw_tax_id="30-50001091-2")
    assert (decision.result, decision.country) == ("available", "AR")
    assert EligibilityCheck.objects.get().country == "AR"


def test_hostile_input_is_logged_without_breaking_the_log(alice):
    decision = check_company(
        user=alice, country="B\x00R" * 2000, raw_tax_id="1\x00" * 5000, company_name="\x00" * 300
    )
    assert decision.result == "invalid"
    logged = EligibilityCheck.objects.get()
    assert "\x00" not in logged.raw_input + logged.country + logged.company_name
    assert len(logged.raw_input) <= 128 and len(logged.country) <= 8


def test_staff_without_partner_cannot_run_a_check(staff):
    with pytest.raises(NoActivePartner):
        check_company(user=staff, country="BR", raw_tax_id=NEW)
    assert not EligibilityCheck.objects.exists()
