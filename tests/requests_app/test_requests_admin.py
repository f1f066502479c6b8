"""Staff screens: queues, status changes through actions and the change form, the Dealdesk."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from bulk.models import BulkCheckJob
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from tests.factories import BulkCheckJobFactory, CompanyFactory
from tests.requests_app.requests_helpers import make_request

CHANGELIST = "/admin/requests_app/partnerrequest/"


def change_url(request):
    return f"{CHANGELIST}{request.pk}/change/"


def act(client, action, requests):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [r.pk for r in requests]},
        follow=True,
    )


def signed_in_staff(user):
    client = Client()
    device = StaticDevice.objects.create(user=user, name="backup")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def listed(body: str) -> set[str]:
    return set(re.findall(r">(RH-\d{6})</a>", body))


@pytest.fixture
def ae_client(ae, ae_group):
    ae_group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="requests_app",
            codename__in=["view_partnerrequest", "change_partnerrequest"],
        )
    )
    return signed_in_staff(ae)


@pytest.fixture
def launch(partner, alice, prospect, ae):
    return make_request(partner=partner, company=prospect, created_by=alice, assigned_ae=ae)


def test_mark_in_progress_action_records_and_emails(
    staff_client, staff, launch, alice, on_commit, mailoutbox
):
    with on_commit():
        response = act(staff_client, "mark_in_progress", [launch])
    launch.refresh_from_db()
    assert launch.status == RequestStatus.IN_PROGRESS
    event = launch.events.last()
    assert (event.from_status, event.to_status, event.actor) == ("submitted", "in_progress", staff)
    assert [m.to for m in mailoutbox] == [[alice.email]]
    assert "1 request is now In progress" in response.content.decode()


def test_won_and_lost_actions_follow_the_life_cycle(
    staff_client, launch, partner, alice, client_company
):
    response = act(staff_client, "mark_won", [launch])
    launch.refresh_from_db()
    assert launch.status == RequestStatus.SUBMITTED  # must be in progress first
    assert "Not changed" in response.content.decode() and launch.reference in (
        response.content.decode()
    )
    act(staff_client, "mark_in_progress", [launch])
    act(staff_client, "mark_lost", [launch])
    launch.refresh_from_db()
    assert launch.status == RequestStatus.LOST


def test_approve_and_decline_actions_apply_to_upsells_and_takeovers_only(
    staff_client, launch, partner, client_company
):
    upsell = make_request(
        partner=partner,
        company=client_company,
        kind=RequestKind.UPSELL,
        status=RequestStatus.IN_PROGRESS,
    )
    takeover = make_request(
        partner=partner,
        company=client_company,
        kind=RequestKind.TAKEOVER,
        status=RequestStatus.IN_PROGRESS,
    )
    act(staff_client, "approve_followups", [upsell, launch])
    act(staff_client, "decline_followups", [takeover])
    statuses = dict(PartnerRequest.objects.values_list("pk", "status"))
    assert statuses == {launch.pk: "submitted", upsell.pk: "approved", takeover.pk: "declined"}


def test_change_form_status_goes_through_the_service(
    staff_client, staff, launch, alice, ae, on_commit, mailoutbox
):
    with on_commit():
        response = staff_client.post(
            change_url(launch),
            {
                "status": "in_progress",
                "assigned_ae": ae.pk,
                "note": "Meeting booked",
                "events-TOTAL_FORMS": "1",
                "events-INITIAL_FORMS": "1",
                "events-MIN_NUM_FORMS": "0",
                "events-MAX_NUM_FORMS": "1000",
            },
        )
    assert response.status_code == 302
    launch.refresh_from_db()
    assert launch.status == RequestStatus.IN_PROGRESS
    event = launch.events.last()
    assert (event.to_status, event.note, event.actor) == ("in_progress", "Meeting booked", staff)
    (mail,) = mailoutbox
    assert mail.to == [alice.email] and "Meeting booked" in mail.body


def test_change_form_offers_only_allowed_statuses_and_refuses_others(staff_client, launch):
    body = staff_client.get(change_url(launch)).content.decode()
    select = re.search(r'<select name="status".*?</select>', body, re.S).group(0)
    offered = set(re.findall(r'value="(\w+)"', select))
    assert offered == {"submitted", "in_progress"}
    response = staff_client.post(
        change_url(launch),
        {
            "status": "won",
            "assigned_ae": "",
            "note": "",
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    launch.refresh_from_db()
    assert launch.status == RequestStatus.SUBMITTED and launch.events.count() == 1


def test_reassigning_in_the_change_form_tells_the_new_ae(
    staff_client, launch, ae2, on_commit, mailoutbox
):
    with on_commit():
        staff_client.post(
            change_url(launch),
            {
                "status": "submitted",
                "assigned_ae": ae2.pk,
                "note": "",
                "events-TOTAL_FORMS": "1",
                "events-INITIAL_FORMS": "1",
                "events-MIN_NUM_FORMS": "0",
                "events-MAX_NUM_FORMS": "1000",
            },
        )
    launch.refresh_from_db()
    assert launch.assigned_ae == ae2 and launch.events.count() == 1
    assert [m.to for m in mailoutbox] == [[ae2.email]]


def test_history_is_shown_read_only(staff_client, launch):
    body = staff_client.get(change_url(launch)).content.decode()
    assert "Status history" in body
    assert 'name="events-0-note"' not in body and 'name="events-0-DELETE"' not in body


def test_staff_cannot_add_or_delete_requests(staff_client, launch):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    assert staff_client.get(f"{CHANGELIST}{launch.pk}/delete/").status_code == 403


def test_dealdesk_bulk_approve_and_reject(
    staff_client, partner, alice, prospect, ae, on_commit, mailoutbox
):
    job = BulkCheckJobFactory(
        partner=partner,
        created_by=alice,
        mode=BulkCheckJob.Mode.CHECK_AND_LAUNCH,
        filename="leads.csv",
    )
    others = CompanyFactory.create_batch(2)
    first, second, third = [
        make_request(
            partner=partner,
            company=c,
            created_by=alice,
            status=RequestStatus.PENDING_APPROVAL,
            bulk_job=job,
            bulk_row=n,
        )
        for n, c in enumerate([prospect, *others], start=2)
    ]
    listing = staff_client.get(
        CHANGELIST, {"bulk_job": job.pk, "status__exact": "pending_approval"}
    )
    assert listed(listing.content.decode()) == {first.reference, second.reference, third.reference}
    with on_commit():
        act(staff_client, "dealdesk_approve", [first, second])
        act(staff_client, "dealdesk_reject", [third])
    statuses = dict(PartnerRequest.objects.values_list("reference", "status"))
    assert statuses == {
        first.reference: "submitted",
        second.reference: "submitted",
        third.reference: "rejected",
    }
    assert PartnerRequest.objects.get(pk=first.pk).assigned_ae == ae
    # approvals: one digest to the AE and one to alice; rejection: one to alice.
    assert sorted(m.to[0] for m in mailoutbox) == sorted([ae.email, alice.email, alice.email])


def test_ae_lands_on_their_own_queue(ae_client, ae, ae2, partner, prospect, client_company):
    mine = make_request(partner=partner, company=prospect, assigned_ae=ae)
    theirs = make_request(
        partner=partner, company=client_company, kind=RequestKind.UPSELL, assigned_ae=ae2
    )
    unassigned = make_request(partner=partner, company=CompanyFactory())
    assert listed(ae_client.get(CHANGELIST).content.decode()) == {mine.reference}
    everyone = ae_client.get(CHANGELIST, {"queue": "all"}).content.decode()
    assert listed(everyone) == {mine.reference, theirs.reference, unassigned.reference}
    waiting = ae_client.get(CHANGELIST, {"queue": "unassigned"}).content.decode()
    assert listed(waiting) == {unassigned.reference}


def test_non_ae_staff_see_everything_by_default(staff_client, launch, partner, client_company):
    other = make_request(partner=partner, company=client_company, kind=RequestKind.UPSELL)
    assert listed(staff_client.get(CHANGELIST).content.decode()) == {
        launch.reference,
        other.reference,
    }


@pytest.mark.parametrize("term", ["35068427000106", "Rio Claro", "Acme", "{reference}"])
def test_search_by_tax_id_name_partner_or_reference(staff_client, launch, term):
    body = staff_client.get(CHANGELIST, {"q": term.format(reference=launch.reference)})
    assert listed(body.content.decode()) == {launch.reference}


def test_list_filters_do_not_break_on_bad_values(staff_client, launch):
    for params in ({"bulk_job": "abc"}, {"queue": "nobody"}, {"kind__exact": "launch"}):
        assert staff_client.get(CHANGELIST, params).status_code == 200


def test_partner_users_cannot_open_the_requests_admin(alice_client, launch):
    response = alice_client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
