"""The partner's home page: only their data, correct counts, bounded queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bulk.models import BulkCheckJob
from eligibility.models import EligibilityCheck, EligibilityResult
from eligibility.taxid import format_tax_id
from requests_app.models import PartnerRequest, RequestKind, RequestStatus
from tests.factories import (
    BulkCheckJobFactory,
    CompanyFactory,
    EligibilityCheckFactory,
    PartnerRequestFactory,
)


def make_request(
    partner,
    *,
    kind=RequestKind.LAUNCH,
    status=RequestStatus.SUBMITTED,
    protected_days=None,
    due_in_days=None,
    name="",
) -> PartnerRequest:
    now = timezone.now()
    return PartnerRequestFactory(
        kind=kind,
        status=status,
        partner=partner,
        created_by=None,
        company=CompanyFactory(country="US", legal_name=name)
        if name
        else CompanyFactory(country="US"),
        company_name=name,
        protected_until=now + timedelta(days=protected_days)
        if protected_days is not None
        else None,
        due_date=(now + timedelta(days=due_in_days)).date() if due_in_days is not None else None,
        history=False,
    )


def make_job(
    partner,
    user,
    *,
    status=BulkCheckJob.Status.RUNNING,
    total=100,
    processed=40,
    filename="companies.csv",
) -> BulkCheckJob:
    return BulkCheckJobFactory(
        partner=partner,
        created_by=user,
        status=status,
        filename=filename,
        total_rows=total,
        processed_rows=processed,
    )


def make_check(
    partner,
    user,
    *,
    tax_id="123456789",
    result=EligibilityResult.AVAILABLE,
    source=EligibilityCheck.Source.SINGLE,
    minutes_ago=0,
) -> EligibilityCheck:
    return EligibilityCheckFactory(
        partner=partner,
        user=user,
        country="US",
        tax_id=tax_id,
        result=result,
        source=source,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def seed(partner, user, n: int) -> None:
    """n rows of every kind the dashboard shows."""
    for i in range(n):
        make_request(partner, protected_days=3 + i % 10)
        make_request(partner, kind=RequestKind.TAKEOVER, due_in_days=1 + i % 5)
        make_job(partner, user)
        make_check(partner, user, tax_id=f"{i:09d}")


def dashboard(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_new_partner_sees_a_friendly_empty_state(alice_client):
    body = dashboard(alice_client)
    assert 'data-dashboard="empty"' in body
    assert "Welcome to the Reseller Hub" in body
    assert 'href="/eligibility/check/"' in body
    assert body.count("<h1") == 1


def test_counts_by_status_link_to_the_filtered_list(alice_client, partner, alice):
    for _ in range(3):
        make_request(partner, status=RequestStatus.SUBMITTED)
    make_request(partner, status=RequestStatus.WON)
    make_request(partner, kind=RequestKind.UPSELL, status=RequestStatus.IN_PROGRESS)
    body = dashboard(alice_client)
    counts = dict(
        re.findall(
            r'data-status-count="(\w+)">\s*<a href="/requests/\?status=\1">[^<]+</a>\s*'
            r"<span[^>]*data-count>(\d+)</span>",
            body,
        )
    )
    assert counts == {"submitted": "3", "in_progress": "1", "won": "1"}
    assert "5 requests in all." in body
    assert 'data-dashboard="empty"' not in body


def test_charlies_data_never_shows_on_alices_dashboard(
    alice_client, alice, partner, charlie, other_partner
):
    make_request(partner, protected_days=5, name="Alice Launch Co")
    make_request(other_partner, protected_days=5, name="Globex Secret Co")
    make_request(other_partner, kind=RequestKind.TAKEOVER, due_in_days=2, name="Globex Takeover")
    make_request(other_partner, status=RequestStatus.WON)
    make_job(other_partner, charlie, filename="globex-leads.csv")
    make_check(other_partner, charlie, tax_id="999888777")
    body = dashboard(alice_client)
    assert "Alice Launch Co" in body
    for secret in (
        "Globex Secret Co",
        "Globex Takeover",
        "globex-leads.csv",
        "999888777",
        'data-status-count="won"',
    ):
        assert secret not in body
    assert re.search(r'data-status-count="submitted">.*?data-count>1<', body, re.S)


def test_colleagues_share_the_partners_dashboard(client, alice, bob, partner):
    make_check(partner, alice, tax_id="111222333")
    make_job(partner, alice, filename="alice-upload.csv")
    client.force_login(bob)
    body = dashboard(client)
    # Tax IDs are shown formatted for their country (here a US EIN).
    assert format_tax_id("US", "111222333") in body and "alice-upload.csv" in body


def test_expiring_protections_within_fourteen_days(alice_client, partner):
    make_request(partner, protected_days=13, name="Thirteen Days Co")
    make_request(partner, protected_days=15, name="Fifteen Days Co")
    make_request(partner, protected_days=-1, name="Already Ended Co")
    make_request(partner, status=RequestStatus.WON, protected_days=3, name="Won Co")
    make_request(
        partner, status=RequestStatus.PENDING_APPROVAL, protected_days=2, name="Pending Co"
    )
    inside = make_request(partner, protected_days=13)
    body = dashboard(alice_client)
    section = body.split('data-dashboard="expiring"')[1].split("</section>")[0]
    assert "Thirteen Days Co" in section and "Pending Co" in section
    assert "Fifteen Days Co" not in section
    assert "Already Ended Co" not in section
    assert "Won Co" not in section
    assert f'href="/requests/{inside.reference}/"' in section
    # Soonest first.
    assert section.index("Pending Co") < section.index("Thirteen Days Co")


def test_exactly_fourteen_days_is_still_listed(alice_client, partner, monkeypatch):
    from requests_app import selectors as requests_selectors

    frozen = timezone.now()
    monkeypatch.setattr(requests_selectors.timezone, "now", lambda: frozen)
    request = make_request(partner, name="Edge Co")
    request.protected_until = frozen + timedelta(days=14)
    request.save()
    assert "Edge Co" in dashboard(alice_client)
    request.protected_until = frozen + timedelta(days=14, seconds=1)
    request.save()
    assert "Edge Co" not in dashboard(alice_client)


def test_takeovers_show_their_answer_dates(alice_client, partner):
    later = make_request(partner, kind=RequestKind.TAKEOVER, due_in_days=5, name="Later Co")
    sooner = make_request(
        partner,
        kind=RequestKind.TAKEOVER,
        due_in_days=1,
        name="Sooner Co",
        status=RequestStatus.IN_PROGRESS,
    )
    make_request(
        partner,
        kind=RequestKind.TAKEOVER,
        due_in_days=1,
        name="Answered Co",
        status=RequestStatus.APPROVED,
    )
    make_request(partner, kind=RequestKind.UPSELL, due_in_days=1, name="Upsell Co")
    body = dashboard(alice_client)
    section = body.split('data-dashboard="takeovers"')[1].split("</section>")[0]
    assert f'data-reference="{sooner.reference}" data-due="{sooner.due_date:%Y-%m-%d}"' in section
    assert f'data-due="{later.due_date:%Y-%m-%d}"' in section
    assert section.index("Sooner Co") < section.index("Later Co")
    assert "Answered Co" not in section and "Upsell Co" not in section


def test_latest_five_bulk_jobs_with_status_and_progress(alice_client, partner, alice):
    for n in range(7):
        make_job(partner, alice, filename=f"file-{n}.csv")
    make_job(
        partner,
        alice,
        filename="finished.csv",
        status=BulkCheckJob.Status.DONE,
        total=10,
        processed=10,
    )
    body = dashboard(alice_client)
    section = body.split('data-dashboard="bulk-jobs"')[1].split("</section>")[0]
    assert re.findall(r"file-\d\.csv|finished\.csv", section) == [
        "finished.csv",
        "file-6.csv",
        "file-5.csv",
        "file-4.csv",
        "file-3.csv",
    ]
    assert 'data-job-status="done"' in section and 'data-job-status="running"' in section
    assert 'value="100"' in section and 'value="40"' in section
    assert 'href="/eligibility/bulk/"' in section


def test_last_ten_single_checks_newest_first(alice_client, partner, alice):
    for n in range(12):
        make_check(partner, alice, tax_id=f"00000000{n:02d}", minutes_ago=100 - n)
    make_check(partner, alice, tax_id="BULKROW0001", source=EligibilityCheck.Source.BULK)
    make_check(partner, alice, tax_id="INVALIDXX", result=EligibilityResult.INVALID)
    body = dashboard(alice_client)
    section = body.split('data-dashboard="checks"')[1].split("</section>")[0]
    # Tax IDs are shown formatted for their country, in plain text.
    shown = re.findall(r'<td class="tax-id">([^<]+)</td>', section)
    expected = ["INVALIDXX"] + [f"00000000{n:02d}" for n in range(11, 2, -1)]
    assert shown == [format_tax_id("US", tax_id) for tax_id in expected]
    assert "BULKROW0001" not in section
    assert 'data-check-result="invalid"' in section
    assert 'href="/eligibility/check/"' in section


def _queries_for(client) -> int:
    dashboard(client)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        dashboard(client)
    return len(queries)


@pytest.mark.parametrize("rows", [2, 40])
def test_dashboard_query_count_is_small_whatever_the_data(
    alice_client, partner, alice, rows, django_assert_max_num_queries
):
    seed(partner, alice, rows)
    dashboard(alice_client)  # the first visit also stores the session's last-seen time
    # The user, the partner and one query per panel.
    with django_assert_max_num_queries(7):
        dashboard(alice_client)


def test_dashboard_query_count_does_not_grow_with_the_data(alice_client, partner, alice):
    seed(partner, alice, 2)
    few = _queries_for(alice_client)
    seed(partner, alice, 38)
    assert _queries_for(alice_client) == few


def test_staff_without_partner_are_sent_to_the_admin(staff_client):
    # Staff have no partner pages: their home is the admin's staff home page.
    response = staff_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert "data-staff-home" in staff_client.get("/admin/").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_paused_partner_sees_why_and_none_of_its_data(alice_client, partner, alice):
    make_request(partner, protected_days=5, name="Alice Launch Co")
    make_check(partner, alice, tax_id="111222333")
    make_job(partner, alice, filename="alice-upload.csv")
    partner.is_active = False
    partner.save(update_fields=["is_active"])

    response = alice_client.get("/")
    body = response.content.decode()
    assert response.status_code == 403
    assert 'data-dashboard="paused"' in body
    assert "access to the Reseller Hub is paused" in body
    assert partner.name in body
    for data in ("Alice Launch Co", "111222333", "alice-upload.csv", "data-status-count"):
        assert data not in body
    assert 'data-dashboard="staff"' not in body and 'href="/admin/"' not in body
    assert body.count("<h1") == 1
