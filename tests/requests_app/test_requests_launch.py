"""Launch requests: the form, the re-check at submission, AE assignment and e-mails."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Partner
from accounts.rules import NoActivePartner
from eligibility.models import Company, EligibilityCheck
from requests_app.launch import create_launch
from requests_app.models import PartnerRequest, RequestEvent, RequestKind, RequestStatus
from requests_app.shared import RequestRefused
from tests.factories import UserFactory
from tests.requests_app.requests_helpers import (
    CLIENT_CNPJ,
    NEW_CNPJ,
    PROSPECT_CNPJ,
    launch_post,
    make_request,
)

URL = "/requests/new/launch/"


def submit(client, on_commit, **overrides):
    with on_commit():
        return client.post(URL, launch_post(**overrides))


def test_form_is_prefilled_from_the_check_result(alice_client):
    response = alice_client.get(
        URL, {"country": "br", "tax_id": "16.727.230/0001-97", "company_name": "New Co"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="launch-form"' in body
    assert f'name="tax_id" value="{NEW_CNPJ}"' in body
    assert 'name="country" value="BR"' in body
    assert "New Co" in body
    for field in ("contact_name", "contact_email", "contact_phone", "employee_count"):
        assert f'for="id_{field}"' in body


def test_launch_creates_the_request_and_shows_its_page(alice_client, alice, on_commit):
    response = submit(alice_client, on_commit)
    launch = PartnerRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{launch.reference}/"
    assert launch.reference == f"RH-{launch.pk:06d}"
    assert launch.kind == RequestKind.LAUNCH and launch.status == RequestStatus.SUBMITTED
    assert launch.created_by == alice and launch.partner == alice.partner
    assert (launch.contact_name, launch.contact_email) == ("Maria Lima", "maria@newco.example")
    assert launch.employee_count == 250 and launch.business_model == "reseller"
    assert launch.protection_key == "BR:16727230"
    expected_until = timezone.now() + timedelta(days=settings.PROTECTION_DAYS)
    assert abs(launch.protected_until - expected_until) < timedelta(minutes=1)
    company = Company.objects.get(country="BR", tax_id=NEW_CNPJ)
    assert launch.company == company and company.status == Company.Status.PROSPECT
    event = RequestEvent.objects.get(request=launch)
    assert (event.from_status, event.to_status, event.actor) == ("", "submitted", alice)
    page = alice_client.get(response["Location"]).content.decode()
    assert f'data-reference="{launch.reference}"' in page and 'data-status="submitted"' in page


def test_submission_is_logged_as_a_request_check(alice_client, on_commit):
    submit(alice_client, on_commit)
    check = EligibilityCheck.objects.get()
    assert (check.source, check.result, check.tax_id) == ("request", "available", NEW_CNPJ)


def test_partners_designated_ae_gets_it_and_both_sides_are_emailed(
    alice_client, alice, partner, ae, ae2, on_commit, mailoutbox
):
    partner.designated_ae = ae2
    partner.save()
    submit(alice_client, on_commit)
    launch = PartnerRequest.objects.get()
    assert launch.assigned_ae == ae2
    by_recipient = {tuple(m.to): m for m in mailoutbox}
    assert set(by_recipient) == {(ae2.email,), (alice.email,)}
    to_ae = by_recipient[(ae2.email,)]
    assert launch.reference in to_ae.subject
    assert f"{settings.SITE_URL}/admin/requests_app/partnerrequest/{launch.pk}/change/" in (
        to_ae.body
    )
    assert "Maria Lima" in to_ae.body and "maria@newco.example" in to_ae.body
    to_partner = by_recipient[(alice.email,)]
    assert f"{settings.SITE_URL}/requests/{launch.reference}/" in to_partner.body
    assert (
        f'href="{settings.SITE_URL}/requests/{launch.reference}/"'
        in (to_partner.alternatives[0][0])
    )
    assert "Alex" not in to_partner.body and "Bruna Account" in to_partner.body


def test_without_designated_ae_the_one_with_fewest_open_launches_gets_it(
    alice_client, other_partner, ae, ae2, on_commit
):
    # ae: two open launches; ae2: one open and several closed ones.
    for tax_id, who, status in [
        ("11222333000181", ae, RequestStatus.SUBMITTED),
        ("28391765000119", ae, RequestStatus.IN_PROGRESS),
        ("61350842000168", ae2, RequestStatus.SUBMITTED),
        ("90246183000112", ae2, RequestStatus.WON),
        ("35068427000106", ae2, RequestStatus.LOST),
        ("77420519000153", ae2, RequestStatus.EXPIRED),
    ]:
        company = Company.objects.create(country="BR", tax_id=tax_id)
        make_request(partner=other_partner, company=company, status=status, assigned_ae=who)
    submit(alice_client, on_commit)
    assert PartnerRequest.objects.get(company__tax_id=NEW_CNPJ).assigned_ae == ae2


def test_equal_load_goes_to_the_first_ae_and_inactive_ones_are_skipped(
    alice_client, partner, ae, ae2, on_commit
):
    partner.designated_ae = ae
    partner.save()
    ae.is_active = False  # a designated AE who left is not used either
    ae.save()
    submit(alice_client, on_commit)
    assert PartnerRequest.objects.get().assigned_ae == ae2


def test_with_no_ae_at_all_the_launch_is_still_created_and_sales_told(
    alice_client, alice, on_commit, mailoutbox
):
    response = submit(alice_client, on_commit)
    launch = PartnerRequest.objects.get()
    assert response.status_code == 302 and launch.assigned_ae is None
    recipients = sorted(tuple(m.to) for m in mailoutbox)
    assert recipients == sorted([(alice.email,), (settings.SALES_TEAM_EMAIL,)])
    assert (
        "Unassigned" in next(m for m in mailoutbox if m.to == [settings.SALES_TEAM_EMAIL]).subject
    )


def test_recheck_refuses_when_another_partner_launched_the_company_meanwhile(
    alice_client, other_partner, prospect, on_commit, mailoutbox
):
    form = alice_client.get(URL, {"country": "BR", "tax_id": PROSPECT_CNPJ})
    assert 'data-testid="launch-form"' in form.content.decode()
    theirs = make_request(partner=other_partner, company=prospect)

    response = submit(alice_client, on_commit, company_tax_id=PROSPECT_CNPJ)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Another launch request for this company is already open" in body
    assert other_partner.name not in body and theirs.reference not in body
    assert list(PartnerRequest.objects.all()) == [theirs]
    assert mailoutbox == []


def test_a_second_identical_post_creates_no_duplicate_and_links_the_first(alice_client, on_commit):
    submit(alice_client, on_commit)
    first = PartnerRequest.objects.get()
    response = submit(alice_client, on_commit)
    body = response.content.decode()
    assert PartnerRequest.objects.count() == 1
    assert "already has an open launch request" in body
    assert f'href="/requests/{first.reference}/"' in body


def test_a_branch_of_a_protected_company_is_refused(alice_client, charlie, on_commit):
    create_launch(
        user=charlie,
        country="BR",
        tax_id="16727230000197",
        company_name="",
        contact_name="X",
        contact_email="x@example.com",
        contact_phone="1234567",
        employee_count=5,
        business_model="reseller",
    )
    # Same CNPJ root (16727230), branch 0002.
    response = submit(alice_client, on_commit, company_tax_id="16727230000278")
    assert "Another launch request for this company is already open" in response.content.decode()
    assert PartnerRequest.objects.count() == 1


def test_tampered_tax_id_of_a_client_creates_nothing(alice_client, client_company, on_commit):
    response = submit(alice_client, on_commit, company_tax_id=CLIENT_CNPJ)
    assert "already a Wellhub client" in response.content.decode()
    assert not PartnerRequest.objects.exists()


def test_tampered_invalid_tax_id_creates_nothing(alice_client, on_commit):
    response = submit(alice_client, on_commit, company_tax_id="16727230000198")
    assert "check digit is wrong" in response.content.decode()
    assert not PartnerRequest.objects.exists()
    assert not Company.objects.exists()


@pytest.mark.parametrize("field", ["country", "tax_id"])
def test_missing_company_fields_are_explained(alice_client, on_commit, field):
    data = launch_post()
    del data[field]
    response = alice_client.post(URL, data)
    assert "company details are missing" in response.content.decode()
    assert not PartnerRequest.objects.exists()


def test_business_model_the_partner_lacks_is_a_form_error(alice_client, partner, on_commit):
    partner.allows_referral = False
    partner.save()
    response = submit(alice_client, on_commit, business_model="referral")
    assert "Select a valid choice" in response.content.decode()
    assert not PartnerRequest.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "at least 1"),
        ("-1", "at least 1"),
        ("1.5", "whole number"),
        ("1e3", "whole number"),
        ("abc", "whole number"),
        ("1000000000000", "at most 10,000,000"),
        ("9" * 5000, "at most 10,000,000"),
        ("10000001", "at most 10,000,000"),
        ("", "This field is required"),
    ],
)
def test_bad_employee_counts_are_refused(alice_client, on_commit, value, message):
    response = submit(alice_client, on_commit, employee_count=value)
    assert message in response.content.decode()
    assert not PartnerRequest.objects.exists()


@pytest.mark.parametrize("value", ["1", "10000000", " 42 "])
def test_employee_counts_within_range_are_accepted(alice_client, on_commit, value):
    submit(alice_client, on_commit, employee_count=value)
    assert PartnerRequest.objects.get().employee_count == int(value)


@pytest.mark.parametrize("email", ["not-an-email", "maria@", "maria@newco", ""])
def test_bad_contact_email_is_refused(alice_client, on_commit, email):
    response = submit(alice_client, on_commit, contact_email=email)
    assert 'id="id_contact_email_error"' in response.content.decode()
    assert not PartnerRequest.objects.exists()


@pytest.mark.parametrize(
    "phone", ["call me", "+55 11 ABCD-1234", "123456", "1" * 21, "55+11 91234-5678", ""]
)
def test_bad_contact_phone_is_refused(alice_client, on_commit, phone):
    response = submit(alice_client, on_commit, contact_phone=phone)
    assert 'id="id_contact_phone_error"' in response.content.decode()
    assert not PartnerRequest.objects.exists()


@pytest.mark.parametrize("phone", ["+55 (11) 91234-5678", "1234567", "+1 415-555-0100"])
def test_usual_phone_formats_are_accepted(alice_client, on_commit, phone):
    submit(alice_client, on_commit, contact_phone=phone)
    assert PartnerRequest.objects.get().contact_phone == phone


def test_get_for_a_client_explains_and_shows_no_form(alice_client, client_company):
    body = alice_client.get(URL, {"country": "BR", "tax_id": CLIENT_CNPJ}).content.decode()
    assert "already a Wellhub client" in body and 'data-testid="launch-form"' not in body


def test_get_for_the_partners_own_open_launch_links_it(alice_client, partner, prospect):
    ours = make_request(partner=partner, company=prospect)
    body = alice_client.get(URL, {"country": "BR", "tax_id": PROSPECT_CNPJ}).content.decode()
    assert f'href="/requests/{ours.reference}/"' in body
    assert 'data-testid="launch-form"' not in body


def test_get_without_a_company_sends_the_partner_back_to_the_check(alice_client):
    body = alice_client.get(URL).content.decode()
    assert 'href="/eligibility/check/' in body and 'data-testid="launch-form"' not in body


def test_staff_without_a_partner_cannot_send_requests(client, staff):
    client.force_login(staff)
    assert client.get(URL, {"country": "BR", "tax_id": NEW_CNPJ}).status_code == 403


# --- The service the bulk check uses ----------------------------------------------------------


def launch_kwargs(user, **overrides):
    kwargs = {
        "user": user,
        "country": "BR",
        "tax_id": NEW_CNPJ,
        "company_name": "New Co",
        "contact_name": "Maria Lima",
        "contact_email": "maria@newco.example",
        "contact_phone": "+55 11 91234-5678",
        "employee_count": 10,
        "business_model": "reseller",
    }
    kwargs.update(overrides)
    return kwargs


def test_pending_approval_launch_waits_without_ae_or_email(alice, ae, on_commit, mailoutbox):
    with on_commit():
        launch = create_launch(**launch_kwargs(alice), pending_approval=True)
    assert launch.status == RequestStatus.PENDING_APPROVAL and launch.assigned_ae is None
    assert launch.events.get().to_status == RequestStatus.PENDING_APPROVAL
    assert mailoutbox == []


def test_bulk_row_launch_is_idempotent(alice):
    from bulk.models import BulkCheckJob

    job = BulkCheckJob.objects.create(partner=alice.partner, created_by=alice, input_data=b"")
    first = create_launch(**launch_kwargs(alice), bulk_job=job, bulk_row=2, pending_approval=True)
    again = create_launch(**launch_kwargs(alice), bulk_job=job, bulk_row=2, pending_approval=True)
    assert again.pk == first.pk and PartnerRequest.objects.count() == 1


def test_dealdesk_gets_one_email_per_bulk_job(alice, on_commit, mailoutbox):
    from bulk.models import BulkCheckJob
    from requests_app.launch import notify_dealdesk_of_bulk_launches

    job = BulkCheckJob.objects.create(
        partner=alice.partner, created_by=alice, input_data=b"", filename="march.csv"
    )
    with on_commit():
        notify_dealdesk_of_bulk_launches(job=job, count=12)
        notify_dealdesk_of_bulk_launches(job=job, count=0)
    (mail,) = mailoutbox
    assert mail.to == [settings.DEALDESK_EMAIL]
    assert "12" in mail.subject and "Acme Resellers" in mail.subject
    assert f"bulk_job={job.pk}" in mail.body and "march.csv" in mail.body


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"employee_count": 0}, "employees"),
        ({"employee_count": "1.5"}, "whole number"),
        ({"contact_email": "nope"}, "valid email"),
        ({"contact_phone": "abc"}, "phone number"),
        ({"contact_name": "  "}, "name of the person"),
        ({"business_model": "franchise"}, "business model"),
    ],
)
def test_service_refuses_bad_details(alice, override, field):
    with pytest.raises(RequestRefused) as refused:
        create_launch(**launch_kwargs(alice, **override))
    assert refused.value.reason_code == "invalid_details"
    assert field in refused.value.message
    assert not PartnerRequest.objects.exists()


def test_service_refuses_a_user_of_an_inactive_partner(alice):
    Partner.objects.filter(pk=alice.partner_id).update(is_active=False)
    alice.refresh_from_db()
    with pytest.raises(NoActivePartner) as refused:
        create_launch(**launch_kwargs(alice))
    assert refused.value.paused
    assert not PartnerRequest.objects.exists()


def test_the_colleague_sees_the_launch_as_their_own(alice, bob):
    launch = create_launch(**launch_kwargs(alice))
    with pytest.raises(RequestRefused) as refused:
        create_launch(**launch_kwargs(bob))
    assert refused.value.reason_code == "own_open_request"
    assert refused.value.existing.pk == launch.pk


def test_another_partner_is_told_it_is_protected(alice, charlie):
    create_launch(**launch_kwargs(alice))
    other = UserFactory(partner=charlie.partner)
    with pytest.raises(RequestRefused) as refused:
        create_launch(**launch_kwargs(other))
    assert refused.value.reason_code == "protected" and refused.value.existing is None
