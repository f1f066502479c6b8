"""At 1280 and 390 px wide no partner page scrolls sideways (screenshots in test-artifacts/)."""

import os

import pytest
from django.conf import settings

from bulk.services import start_bulk_check
from bulk.worker import process_bulk_job
from requests_app.models import RequestKind
from tests.browser_helpers import sign_in
from tests.bulk.bulk_helpers import csv_bytes, launch_row
from tests.factories import CompanyFactory, EligibilityCheckFactory, PartnerRequestFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LONG_NAME = "Academia de Ginástica e Bem-Estar Integral do Vale do Paraíba Ltda"


@pytest.fixture
def busy_partner(alice, partner):
    """A partner with something on every page: requests, checks, a bulk job."""
    launch = PartnerRequestFactory(
        partner=partner,
        created_by=alice,
        company=CompanyFactory(tax_id="16727230000197", legal_name=LONG_NAME),
        reference="RH-000321",
    )
    PartnerRequestFactory(
        partner=partner,
        created_by=alice,
        kind=RequestKind.TAKEOVER,
        company=CompanyFactory(tax_id="45723174000110", legal_name=LONG_NAME, client=True),
        protected_until=None,
    )
    for _ in range(3):
        EligibilityCheckFactory(
            user=alice,
            partner=partner,
            country="BR",
            tax_id="11222333000181",
            company_name=LONG_NAME,
        )
    job = start_bulk_check(
        user=alice,
        filename="a-rather-long-file-name-for-the-companies-of-the-quarter.csv",
        data=csv_bytes([launch_row("35068427000106", company_name=LONG_NAME)]),
        mode="check",
    )
    process_bulk_job(job_id=job.pk)
    return {"launch": launch, "job": job}


def _pages(busy):
    return {
        "dashboard": "/",
        "check": "/eligibility/check/",
        "requests": "/requests/",
        "request": f"/requests/{busy['launch'].reference}/",
        "bulk-job": f"/eligibility/bulk/{busy['job'].pk}/",
    }


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_page_scrolls_sideways(page, alice, busy_partner, width):
    sign_in(page, alice)  # at the default size, where the menu shows who is signed in
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    artifacts = os.path.join(settings.BASE_DIR, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    too_wide = {}
    for name, url in _pages(busy_partner).items():
        page.goto(url)
        if name == "check":
            page.get_by_label("Tax ID (CNPJ)", exact=True).fill("16.727.230/0001-97")
            page.get_by_role("button", name="Check eligibility").click()
            page.locator("[data-eligibility]").wait_for()
        page.screenshot(path=os.path.join(artifacts, f"{width}-{name}.png"), full_page=True)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            too_wide[name] = scroll
    assert too_wide == {}, f"pages wider than {WIDTHS[width][0]} px: {too_wide}"
