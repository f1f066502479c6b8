"""The status life cycle: allowed changes, history and the partner's e-mail."""

import pytest
from django.conf import settings

from eligibility.services import decide_many
from requests_app.models import RequestKind, RequestStatus
from requests_app.shared import InvalidTransition
from requests_app.status import approve_bulk_launches, change_status, reject_bulk_launches
from tests.factories import CompanyFactory
from tests.requests_app.requests_helpers import PROSPECT_CNPJ, make_request

S = RequestStatus


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        (RequestKind.LAUNCH, [S.SUBMITTED, S.IN_PROGRESS, S.WON]),
        (RequestKind.LAUNCH, [S.SUBMITTED, S.IN_PROGRESS, S.LOST]),
        (RequestKind.LAUNCH, [S.SUBMITTED, S.EXPIRED]),
        (RequestKind.LAUNCH, [S.PENDING_APPROVAL, S.REJECTED]),
        (RequestKind.UPSELL, [S.SUBMITTED, S.IN_PROGRESS, S.APPROVED]),
        (RequestKind.TAKEOVER, [S.SUBMITTED, S.IN_PROGRESS, S.DECLINED]),
    ],
)
def test_allowed_paths_are_recorded_step_by_step(partner, alice, prospect, ae, kind, path):
    request = make_request(
        partner=partner, company=prospect, kind=kind, status=path[0], created_by=alice
    )
    for status in path[1:]:
        change_status(request=request, to_status=status, actor=ae, note=f"to {status}")
    request.refresh_from_db()
    assert request.status == path[-1]
    events = list(request.events.values_list("from_status", "to_status", "note"))
    assert events[1:] == [
        (before, after, f"to {after}") for before, after in zip(path, path[1:], strict=False)
    ]


@pytest.mark.parametrize(
    ("kind", "start", "target"),
    [
        (RequestKind.LAUNCH, S.SUBMITTED, S.WON),
        (RequestKind.LAUNCH, S.SUBMITTED, S.APPROVED),
        (RequestKind.LAUNCH, S.WON, S.IN_PROGRESS),
        (RequestKind.LAUNCH, S.EXPIRED, S.SUBMITTED),
        (RequestKind.LAUNCH, S.IN_PROGRESS, S.DECLINED),
        (RequestKind.LAUNCH, S.PENDING_APPROVAL, S.IN_PROGRESS),
        (RequestKind.UPSELL, S.SUBMITTED, S.APPROVED),
        (RequestKind.UPSELL, S.IN_PROGRESS, S.WON),
        (RequestKind.TAKEOVER, S.APPROVED, S.DECLINED),
        (RequestKind.TAKEOVER, S.SUBMITTED, "nonsense"),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(
    partner, prospect, ae, on_commit, mailoutbox, kind, start, target
):
    request = make_request(partner=partner, company=prospect, kind=kind, status=start)
    with on_commit(), pytest.raises(InvalidTransition) as refused:
        change_status(request=request, to_status=target, actor=ae)
    request.refresh_from_db()
    assert request.status == start and request.events.count() == 1
    assert request.reference in refused.value.message
    assert mailoutbox == []


def test_a_stale_copy_cannot_skip_the_life_cycle(partner, prospect, ae):
    request = make_request(partner=partner, company=prospect)
    stale = type(request).objects.get(pk=request.pk)
    change_status(request=request, to_status=S.IN_PROGRESS, actor=ae)
    change_status(request=request, to_status=S.LOST, actor=ae)
    # The stale copy still says "submitted"; the database says "lost", which is final.
    with pytest.raises(InvalidTransition):
        change_status(request=stale, to_status=S.IN_PROGRESS, actor=ae)
    request.refresh_from_db()
    assert request.status == S.LOST


def test_each_change_is_emailed_to_the_submitter(
    partner, alice, prospect, ae, on_commit, mailoutbox
):
    request = make_request(partner=partner, company=prospect, created_by=alice)
    with on_commit():
        change_status(request=request, to_status=S.IN_PROGRESS, actor=ae, note="Call booked")
    (mail,) = mailoutbox
    assert mail.to == [alice.email]
    assert mail.subject == f"[Reseller Hub] {request.reference} is now In progress"
    assert "Call booked" in mail.body
    assert f"{settings.SITE_URL}/requests/{request.reference}/" in mail.body


def test_when_the_submitter_left_the_partners_users_are_emailed(
    partner, alice, bob, prospect, ae, on_commit, mailoutbox
):
    request = make_request(partner=partner, company=prospect, created_by=alice)
    alice.is_active = False
    alice.save()
    with on_commit():
        change_status(request=request, to_status=S.IN_PROGRESS, actor=ae)
    assert [m.to for m in mailoutbox] == [[bob.email]]


def test_closing_a_launch_frees_the_company_for_other_partners(
    partner, other_partner, prospect, ae
):
    request = make_request(partner=partner, company=prospect, status=S.IN_PROGRESS)
    (before,) = decide_many(partner=other_partner, items=[("BR", PROSPECT_CNPJ)])
    change_status(request=request, to_status=S.LOST, actor=ae)
    (after,) = decide_many(partner=other_partner, items=[("BR", PROSPECT_CNPJ)])
    assert (before.result, after.result) == ("unavailable", "available")


# --- Dealdesk ---------------------------------------------------------------------------------


def test_dealdesk_approval_sends_each_pending_launch_to_an_ae(
    partner, alice, prospect, client_company, ae, staff, on_commit, mailoutbox
):
    extra = CompanyFactory()
    pending = [
        make_request(partner=partner, company=c, status=S.PENDING_APPROVAL, created_by=alice)
        for c in (prospect, extra)
    ]
    not_pending = make_request(partner=partner, company=client_company, kind=RequestKind.UPSELL)
    with on_commit():
        outcome = approve_bulk_launches(requests=[*pending, not_pending], actor=staff)
    assert outcome.changed == pending and outcome.skipped == [not_pending]
    for request in pending:
        request.refresh_from_db()
        assert request.status == S.SUBMITTED and request.assigned_ae == ae
        assert list(request.events.values_list("to_status", flat=True)) == [
            "pending_approval",
            "approved",
            "submitted",
        ]
    # One digest to the AE, one to the submitter: not one e-mail per row.
    assert sorted(m.to[0] for m in mailoutbox) == sorted([ae.email, alice.email])
    to_ae = next(m for m in mailoutbox if m.to == [ae.email])
    assert all(r.reference in to_ae.body for r in pending)
    to_alice = next(m for m in mailoutbox if m.to == [alice.email])
    assert "2 requests are now Approved" in to_alice.subject


def test_dealdesk_rejection_closes_pending_launches_and_frees_the_companies(
    partner, other_partner, alice, prospect, staff, on_commit, mailoutbox
):
    pending = make_request(
        partner=partner, company=prospect, status=S.PENDING_APPROVAL, created_by=alice
    )
    with on_commit():
        outcome = reject_bulk_launches(requests=[pending], actor=staff, note="Duplicate lead")
    pending.refresh_from_db()
    assert outcome.changed == [pending] and pending.status == S.REJECTED
    assert pending.events.last().note == "Duplicate lead"
    (decision,) = decide_many(partner=other_partner, items=[("BR", PROSPECT_CNPJ)])
    assert decision.result == "available"
    (mail,) = mailoutbox
    assert mail.to == [alice.email] and "Rejected" in mail.subject


def test_approving_a_single_pending_launch_also_assigns_and_submits_it(
    partner, alice, prospect, ae, staff, on_commit, mailoutbox
):
    pending = make_request(
        partner=partner,
        company=prospect,
        status=S.PENDING_APPROVAL,
        created_by=alice,
        protected_days=1,
    )
    with on_commit():
        change_status(request=pending, to_status=S.APPROVED, actor=staff)
    pending.refresh_from_db()
    assert pending.status == S.SUBMITTED and pending.assigned_ae == ae
    # The protection starts afresh when the AE receives the opportunity.
    assert (pending.protected_until - pending.created_at).days >= settings.PROTECTION_DAYS - 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted([ae.email, alice.email])
