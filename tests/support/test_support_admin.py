"""Support's admin screen for problem reports."""

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from support.models import ProblemReport
from tests.factories import ProblemReportFactory

CHANGELIST = "/admin/support/problemreport/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "blue").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def reports(alice, partner):
    with_shot = ProblemReportFactory(
        user=alice,
        partner=partner,
        description="Upload failed",
        request_id="req-alice-0001",
        page="/eligibility/bulk/",
        screenshot=ContentFile(png(), name="x.png"),
    )
    anonymous = ProblemReportFactory(
        anonymous=True,
        email="blocked@globex.example",
        description="Cannot sign in",
        request_id="req-anon-0002",
    )
    return with_shot, anonymous


def test_changelist_shows_references_and_filters_by_status(staff_client, reports):
    with_shot, anonymous = reports
    body = staff_client.get(CHANGELIST).content.decode()
    assert with_shot.reference in body and anonymous.reference in body
    anonymous.status = ProblemReport.Status.CLOSED
    anonymous.save()
    body = staff_client.get(CHANGELIST, {"status__exact": "open"}).content.decode()
    assert with_shot.reference in body and anonymous.reference not in body


@pytest.mark.parametrize(
    "query, found",
    [("blocked@globex", 1), ("req-alice-0001", 0), ("req-anon", 1), ("alice@acme.example", 0)],
)
def test_search_by_email_or_request_id(staff_client, reports, query, found):
    body = staff_client.get(CHANGELIST, {"q": query}).content.decode()
    assert reports[found].reference in body
    assert reports[1 - found].reference not in body


def test_search_by_reference(staff_client, reports):
    with_shot, anonymous = reports
    body = staff_client.get(CHANGELIST, {"q": anonymous.reference.lower()}).content.decode()
    assert anonymous.reference in body and with_shot.reference not in body


def test_close_action_closes_only_the_selected_reports(staff_client, reports):
    with_shot, anonymous = reports
    response = staff_client.post(
        CHANGELIST, {"action": "close_selected", "_selected_action": [with_shot.pk]}, follow=True
    )
    assert "1 report closed." in response.content.decode()
    with_shot.refresh_from_db()
    anonymous.refresh_from_db()
    assert with_shot.status == ProblemReport.Status.CLOSED and with_shot.closed_at
    assert anonymous.status == ProblemReport.Status.OPEN and anonymous.closed_at is None


def test_reopen_action(staff_client, reports):
    report = reports[0]
    staff_client.post(CHANGELIST, {"action": "close_selected", "_selected_action": [report.pk]})
    staff_client.post(CHANGELIST, {"action": "reopen_selected", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.status == ProblemReport.Status.OPEN and report.closed_at is None


def test_change_page_previews_the_screenshot_and_staff_can_open_it(staff_client, reports):
    report = reports[0]
    page = staff_client.get(f"{CHANGELIST}{report.pk}/change/").content.decode()
    image_url = f"{CHANGELIST}{report.pk}/screenshot/"
    assert f'<img src="{image_url}"' in page
    response = staff_client.get(image_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png()
    assert "no-store" in response["Cache-Control"]


def test_report_without_screenshot_has_no_image(staff_client, reports):
    assert staff_client.get(f"{CHANGELIST}{reports[1].pk}/screenshot/").status_code == 404


def test_partners_cannot_see_screenshots_or_reports(alice_client, reports):
    report = reports[0]
    for url in (CHANGELIST, f"{CHANGELIST}{report.pk}/screenshot/"):
        response = alice_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_reports_are_not_added_by_hand(staff_client, db):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403


def test_deleting_reports_removes_their_screenshots(staff_client, reports, settings, on_commit):
    with_shot, anonymous = reports
    stored = settings.MEDIA_ROOT / with_shot.screenshot.name
    assert stored.exists()
    with on_commit():
        staff_client.post(
            CHANGELIST,
            {
                "action": "delete_selected",
                "post": "yes",
                "_selected_action": [with_shot.pk, anonymous.pk],
            },
        )
    assert not ProblemReport.objects.exists()
    assert not stored.exists()


def test_deleting_one_report_from_its_page_removes_its_screenshot(
    staff_client, reports, settings, on_commit
):
    report = reports[0]
    stored = settings.MEDIA_ROOT / report.screenshot.name
    with on_commit():
        staff_client.post(f"{CHANGELIST}{report.pk}/delete/", {"post": "yes"})
    assert not ProblemReport.objects.filter(pk=report.pk).exists()
    assert not stored.exists()
