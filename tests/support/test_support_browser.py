"""Browser journeys: report a problem from an error page; a blocked user is sent to support."""

import io
import re

import pytest
from PIL import Image

from accounts.models import User
from support.models import ProblemReport
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), "purple").save(buffer, "PNG")
    return buffer.getvalue()


def test_report_a_problem_from_the_404_page_with_a_screenshot(page, transactional_db):
    response = page.goto("/this/page/does/not/exist/")
    assert response.status == 404
    request_id = response.headers["x-request-id"]
    assert page.locator("[data-request-id]").inner_text() == request_id

    page.get_by_role("link", name="Report a problem").first.click()
    page.wait_for_url(re.compile(r"/support/report/\?"))
    assert page.locator("[data-request-id]").inner_text() == request_id

    page.get_by_label("Your e-mail").fill("visitor@partner.example")
    page.get_by_label("What were you trying to do?").fill("I followed a link from an e-mail.")
    page.get_by_label("Screenshot (optional)").set_input_files(
        {"name": "screen.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_role("button", name="Send the report").click()

    reference = page.locator("[data-support-reference]")
    assert re.fullmatch(r"SR-\d{6}", reference.inner_text())
    report = ProblemReport.objects.get()
    assert reference.inner_text() == report.reference
    assert report.request_id == request_id
    assert report.page == "/this/page/does/not/exist/"
    assert report.screenshot.name.endswith(".png")


def test_blocked_user_signing_in_sees_the_contact_support_page(page, partner, settings):
    user = UserFactory(email="blocked@acme.example", partner=partner)
    user.is_active = False
    user.deactivation_reason = User.DeactivationReason.BLOCKED
    user.save()

    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()

    inactive = page.locator('[data-account-state="inactive"]')
    inactive.wait_for()
    assert settings.SUPPORT_EMAIL in page.content()
    page.get_by_role("link", name="Report a problem").first.click()
    page.wait_for_url("**/support/report/")
    assert page.locator("h1").inner_text() == "Report a problem"
