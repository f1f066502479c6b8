"""Premium bulk launch: available rows with complete data become launches pending approval."""

from unittest import mock

import pytest
from django.db import OperationalError

from bulk import worker as bulk_worker
from bulk.models import BulkCheckJob
from bulk.services import start_bulk_check
from bulk.worker import process_bulk_job
from eligibility.models import EligibilityCheck
from requests_app.models import PartnerRequest, RequestStatus
from tests.bulk.bulk_helpers import cnpj, csv_bytes, launch_row, parse_report
from tests.bulk.conftest import CLIENT, NEW_COMPANY, PROSPECT

Status = BulkCheckJob.Status


def launch_job(user, rows) -> BulkCheckJob:
    return start_bulk_check(
        user=user, filename="launch.csv", data=csv_bytes(rows), mode="check_and_launch"
    )


def run(job):
    process_bulk_job(job_id=job.pk)
    job.refresh_from_db()
    return job


def report(job):
    return parse_report(bytes(job.report_data))[1]


def test_available_rows_with_complete_data_become_launches_pending_approval(alice, registry):
    job = run(
        launch_job(
            alice,
            [
                launch_row(PROSPECT),
                launch_row(CLIENT),
                launch_row(NEW_COMPANY, business_model="Referral"),
                launch_row("not-a-cnpj"),
            ],
        )
    )
    assert job.status == Status.DONE
    launches = PartnerRequest.objects.filter(bulk_job=job).order_by("bulk_row")
    assert [(r.bulk_row, r.status, r.partner, r.created_by) for r in launches] == [
        (2, RequestStatus.PENDING_APPROVAL, alice.partner, alice),
        (4, RequestStatus.PENDING_APPROVAL, alice.partner, alice),
    ]
    assert launches[1].business_model == "referral"
    rows = report(job)
    assert [(r["result"], r["request_reference"]) for r in rows] == [
        ("available", launches[0].reference),
        ("client", ""),
        ("available", launches[1].reference),
        ("invalid", ""),
    ]
    assert "Dealdesk" in rows[0]["reason"]
    assert job.launched_count == 2


def test_check_only_mode_never_launches(alice, registry):
    job = start_bulk_check(
        user=alice, filename="a.csv", data=csv_bytes([launch_row(PROSPECT)]), mode="check"
    )
    job = run(job)
    assert not PartnerRequest.objects.exists()
    assert report(job)[0]["request_reference"] == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"contact_name": ""}, "contact_name"),
        ({"contact_name": "x" * 201}, "contact_name"),
        ({"contact_email": ""}, "contact_email"),
        ({"contact_email": "maria at example"}, "contact_email"),
        ({"contact_phone": ""}, "contact_phone"),
        ({"contact_phone": "=1+1"}, "contact_phone"),
        ({"employee_count": ""}, "employee_count"),
        ({"employee_count": "0"}, "employee_count"),
        ({"employee_count": "-5"}, "employee_count"),
        ({"employee_count": "lots"}, "employee_count"),
        ({"business_model": "franchise"}, "business_model"),
        ({"business_model": ""}, "business_model"),  # Acme allows both: it must choose
    ],
)
def test_incomplete_or_invalid_data_says_which_field(alice, registry, overrides, field):
    job = run(launch_job(alice, [launch_row(PROSPECT, **overrides)]))
    (row,) = report(job)
    assert row["result"] == "available"
    assert row["request_reference"] == ""
    assert row["reason"].startswith("Not launched")
    assert f"{field}:" in row["reason"]
    assert not PartnerRequest.objects.exists()
    assert job.launched_count == 0


def test_empty_business_model_means_the_partners_only_model(alice, registry):
    alice.partner.allows_referral = False
    alice.partner.save()
    job = run(launch_job(alice, [launch_row(PROSPECT, business_model="")]))
    assert PartnerRequest.objects.get(bulk_job=job).business_model == "reseller"


@pytest.mark.parametrize("chunk_size", [1, 100])
def test_the_same_company_twice_is_launched_once(alice, registry, settings, chunk_size):
    settings.BULK_CHUNK_SIZE = chunk_size
    job = run(
        launch_job(
            alice,
            [
                launch_row(NEW_COMPANY),
                launch_row(PROSPECT),
                launch_row(NEW_COMPANY, contact_name="Someone Else"),
                launch_row(cnpj(44_444_444, "0002")),  # a branch of the same company
            ],
        )
    )
    rows = report(job)
    assert [r["result"] for r in rows] == ["available", "available", "unavailable", "unavailable"]
    assert "line 2" in rows[2]["reason"]
    assert "line 2" in rows[3]["reason"]
    assert PartnerRequest.objects.filter(bulk_job=job).count() == 2
    assert job.counts == {"available": 2, "unavailable": 2, "client": 0, "invalid": 0}


def test_a_refused_launch_is_reported_with_its_reason(alice, registry):
    from requests_app.shared import RequestRefused

    refusal = RequestRefused("protected", "Another launch request for this company is open.")
    with mock.patch("bulk.launches.create_launch", side_effect=refusal):
        job = run(launch_job(alice, [launch_row(PROSPECT), launch_row(NEW_COMPANY)]))
    rows = report(job)
    assert all(r["reason"] == "Not launched: " + refusal.message for r in rows)
    assert job.launched_count == 0
    assert job.status == Status.DONE


def test_dealdesk_hears_once_per_job_and_the_user_gets_the_report(
    alice, registry, on_commit, mailoutbox, settings
):
    settings.BULK_CHUNK_SIZE = 1
    job = launch_job(alice, [launch_row(PROSPECT), launch_row(NEW_COMPANY)])
    with on_commit():
        run(job)
    recipients = sorted(tuple(m.to) for m in mailoutbox)
    assert recipients == sorted([(alice.email,), (settings.DEALDESK_EMAIL,)])


def test_no_dealdesk_mail_without_launches(alice, registry, on_commit, mailoutbox):
    job = launch_job(alice, [launch_row(CLIENT)])
    with on_commit():
        run(job)
    assert [m.to for m in mailoutbox] == [[alice.email]]


def test_a_resumed_launch_job_launches_no_row_twice(alice, registry, settings):
    settings.BULK_CHUNK_SIZE = 2
    rows = [launch_row(cnpj(70_000_000 + n)) for n in range(6)]
    job = launch_job(alice, rows)
    real_log = bulk_worker.log_checks
    calls = []

    def dies_in_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # after chunk 2's launches, before its commit
            raise OperationalError("worker lost")
        return real_log(**kwargs)

    with mock.patch("bulk.worker.log_checks", side_effect=dies_in_second_chunk):
        with pytest.raises(OperationalError):
            process_bulk_job(job_id=job.pk)
    assert PartnerRequest.objects.filter(bulk_job=job).count() == 2  # chunk 2 rolled back
    BulkCheckJob.objects.filter(pk=job.pk).update(status=Status.QUEUED)

    job = run(job)
    assert job.status == Status.DONE
    per_row = list(PartnerRequest.objects.filter(bulk_job=job).values_list("bulk_row", flat=True))
    assert sorted(per_row) == [2, 3, 4, 5, 6, 7]
    assert job.launched_count == 6
    assert [r["request_reference"] != "" for r in report(job)] == [True] * 6
    assert EligibilityCheck.objects.filter(bulk_job=job, source="bulk").count() == 6


# --- A job acts for the partner that uploaded it, and decides each row once -------------------


def test_a_launched_row_is_decided_and_logged_once(alice, registry):
    with mock.patch("bulk.worker.decide_many", wraps=bulk_worker.decide_many) as decide:
        job = run(launch_job(alice, [launch_row(PROSPECT)]))
    assert PartnerRequest.objects.filter(bulk_job=job).count() == 1
    assert decide.call_count == 1
    (line,) = EligibilityCheck.objects.filter(tax_id=PROSPECT)
    assert (line.source, line.bulk_job_id, line.result) == ("bulk", job.pk, "available")


def test_a_user_moved_to_another_partner_after_upload_still_acts_for_the_uploading_one(
    alice, charlie, registry
):
    uploader = alice.partner
    # Past the size from which a chunk's log is written with COPY on PostgreSQL.
    others = [{"tax_id": cnpj(80_000_000 + n)} for n in range(120)]
    job = launch_job(alice, [launch_row(PROSPECT), launch_row(CLIENT), *others])
    alice.partner = charlie.partner
    alice.save()
    job = run(job)
    assert job.status == Status.DONE
    assert set(EligibilityCheck.objects.values_list("partner_id", flat=True)) == {uploader.pk}
    (launch,) = PartnerRequest.objects.filter(bulk_job=job)
    assert (launch.partner_id, launch.created_by_id) == (uploader.pk, alice.pk)


def test_a_partner_paused_before_the_job_runs_fails_it_with_a_reason(
    alice, registry, on_commit, mailoutbox
):
    job = launch_job(alice, [launch_row(PROSPECT)])
    alice.partner.is_active = False
    alice.partner.save()
    with on_commit():
        job = run(job)
    assert job.status == Status.FAILED
    assert job.error_message == (
        "Your organisation's access to the Reseller Hub is paused. Contact support."
    )
    assert not EligibilityCheck.objects.exists()
    assert not PartnerRequest.objects.exists()
    (message,) = mailoutbox
    assert message.to == [alice.email]
