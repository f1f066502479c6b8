"""The test factories: one for every model of ours, each row one the app itself would accept."""

from pathlib import Path

import factory
import pytest
from django.apps import apps
from django.conf import settings

from bulk.models import BulkCheckJob
from bulk.tasks import process_bulk_job_task
from eligibility.taxid import SUPPORTED_COUNTRIES, validate_tax_id
from requests_app.models import REFERENCE_RE, RequestKind, RequestStatus
from tests import factories
from tests.factories import (
    BulkCheckJobFactory,
    CompanyFactory,
    EligibilityCheckFactory,
    PartnerRequestFactory,
    ProblemReportFactory,
    RequestEventFactory,
    SubscriptionFactory,
    valid_tax_id,
)


def test_every_model_of_ours_has_a_factory():
    built = {
        declared._meta.model
        for declared in vars(factories).values()
        if isinstance(declared, type) and issubclass(declared, factory.django.DjangoModelFactory)
        if declared._meta.model is not None
    }
    ours = {
        model
        for app in apps.get_app_configs()
        # Ours: under the project, not an installed package (a virtualenv may sit inside it).
        if Path(app.path).is_relative_to(settings.BASE_DIR)
        and "site-packages" not in Path(app.path).parts
        for model in app.get_models()
    }
    assert {"Company", "PartnerRequest", "ProblemReport"} <= {m.__name__ for m in ours}
    assert ours - built == set()


@pytest.mark.parametrize("country", sorted(SUPPORTED_COUNTRIES))
def test_tax_ids_are_valid_compact_and_distinct_for_every_country(country):
    tax_ids = [valid_tax_id(country, n) for n in range(50)]
    assert len(set(tax_ids)) == 50
    for tax_id in tax_ids:
        result = validate_tax_id(country, tax_id)
        assert result.is_valid and result.compact == tax_id, (country, tax_id)


def test_companies_get_fresh_valid_tax_ids(db):
    first, second = CompanyFactory(), CompanyFactory(country="US", blocked=True)
    assert validate_tax_id("BR", first.tax_id).is_valid
    assert validate_tax_id("US", second.tax_id).is_valid
    assert (first.status, second.status) == ("prospect", "blocked")
    assert first.root == first.tax_id[:8]


def test_a_request_is_left_as_the_services_leave_it(db):
    launch = PartnerRequestFactory()
    assert REFERENCE_RE.match(launch.reference)
    assert launch.reference == f"RH-{launch.pk:06d}"
    assert launch.protection_key == f"BR:{launch.company.tax_id[:8]}"
    assert launch.created_by.partner == launch.partner
    assert launch.is_open and launch.protected_until is not None
    assert [(e.from_status, e.to_status) for e in launch.events.all()] == [("", "submitted")]


def test_request_traits(db):
    upsell = PartnerRequestFactory(upsell=True, status=RequestStatus.IN_PROGRESS)
    takeover = PartnerRequestFactory(takeover=True, reference="RH-999999", history=False)
    assert (upsell.kind, upsell.company.status, upsell.protected_until) == (
        RequestKind.UPSELL,
        "client",
        None,
    )
    assert takeover.kind == RequestKind.TAKEOVER and takeover.due_date is not None
    assert takeover.reference == "RH-999999" and not takeover.events.exists()
    assert RequestEventFactory().request.events.count() == 1


def test_a_bulk_job_runs_to_the_end(db):
    job = BulkCheckJobFactory()
    process_bulk_job_task.delay(job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (BulkCheckJob.Status.DONE, 1)
    assert job.result_counts == [("available", "Available", 1)]


def test_checks_subscriptions_and_reports_belong_together(db):
    check = EligibilityCheckFactory()
    assert check.user.partner == check.partner and check.raw_input == check.tax_id
    subscription = SubscriptionFactory()
    assert subscription.company.status == "client" and subscription.paid_directly
    report, anonymous = ProblemReportFactory(), ProblemReportFactory(anonymous=True)
    assert (report.partner, report.email) == (report.user.partner, report.user.email)
    assert (anonymous.user, anonymous.partner) == (None, None)
