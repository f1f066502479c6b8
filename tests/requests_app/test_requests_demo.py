"""The quickstart's demo requests: made through the services, safe to re-run."""

import pytest
from django.contrib.auth.models import Group

from accounts import demo as accounts_demo
from accounts.models import Partner
from accounts.roles import AE_GROUP
from eligibility.services import decide_many
from requests_app import demo
from requests_app.models import PartnerRequest, RequestKind, RequestStatus

eligibility_demo = pytest.importorskip("eligibility.demo")


def test_seed_makes_a_protected_company_a_launch_in_progress_and_a_takeover(db):
    accounts_demo.seed()
    eligibility_demo.seed()
    lines = demo.seed()
    again = demo.seed()
    assert lines == again and len(lines) == 3
    assert PartnerRequest.objects.count() == 3

    beta_launch = PartnerRequest.objects.get(partner__name="Beta Referrals")
    assert beta_launch.kind == RequestKind.LAUNCH and beta_launch.status == "submitted"
    assert beta_launch.assigned_ae is not None
    acme = Partner.objects.get(name="Acme Resellers")
    (decision,) = decide_many(partner=acme, items=[demo.PROTECTED_COMPANY])
    assert (decision.result, decision.reason) == ("unavailable", "protected")

    takeover = PartnerRequest.objects.get(kind=RequestKind.TAKEOVER)
    assert takeover.partner == acme and takeover.due_date is not None
    in_progress = PartnerRequest.objects.get(partner=acme, kind=RequestKind.LAUNCH)
    assert in_progress.status == RequestStatus.IN_PROGRESS
    assert in_progress.events.count() == 2

    codenames = set(Group.objects.get(name=AE_GROUP).permissions.values_list("codename", flat=True))
    assert {"view_partnerrequest", "change_partnerrequest"} <= codenames


def test_seed_without_the_registry_creates_nothing_and_does_not_fail(db):
    accounts_demo.seed()
    assert demo.seed() == []
    assert not PartnerRequest.objects.exists()
