"""Report a problem: good reports, bad input, rate limits, and the e-mail to support."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.test import Client
from PIL import Image

from support.models import ProblemReport
from tests.factories import UserFactory

URL = "/support/report/"
SENT_URL = "/support/report/sent/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(fmt: str = "PNG", size=(64, 48), mode: str = "RGB", noise: bool = False) -> bytes:
    if noise:
        import os

        image = Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))
    else:
        image = Image.new(mode, size, "white" if mode != "1" else 0)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post(client, ip: str = "127.0.0.1", **fields):
    data = {"email": "someone@partner.example", "description": "I tried to upload my CSV."}
    data.update(fields)
    return client.post(URL, {k: v for k, v in data.items() if v is not None}, REMOTE_ADDR=ip)


def assert_nothing_stored(media_root, mailoutbox):
    assert ProblemReport.objects.count() == 0
    assert stored_files(media_root) == []
    assert mailoutbox == []


# --- Good reports ------------------------------------------------------------------------------


def test_form_prefills_the_signed_in_users_email_and_carries_the_error_reference(alice_client):
    response = alice_client.get(URL, {"request_id": "abc123DEF456", "page": "/requests/RH-1/"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="alice@acme.example"' in body
    assert re.search(r'name="request_id" value="abc123DEF456"', body)
    assert re.search(r'name="page" value="/requests/RH-1/"', body)
    assert body.count("<h1") == 1
    for field in ("email", "description", "screenshot"):
        assert f'for="id_{field}"' in body


def test_signed_in_partner_reports_with_a_png_screenshot(
    alice_client, alice, on_commit, mailoutbox, media_root, settings
):
    png = image_bytes("PNG")
    with on_commit():
        response = alice_client.post(
            URL,
            {
                "email": "alice@acme.example",
                "description": "The check page said something odd.",
                "screenshot": upload("my holiday photo.png", png),
                "request_id": "0123456789abcdef",
                "page": "/eligibility/check/?country=BR",
            },
            HTTP_USER_AGENT="TestBrowser/1.0",
        )
    assert response.status_code == 302 and response["Location"] == SENT_URL

    report = ProblemReport.objects.get()
    assert report.user == alice and report.partner == alice.partner
    assert report.email == "alice@acme.example"
    assert report.description == "The check page said something odd."
    assert report.request_id == "0123456789abcdef"
    assert report.page == "/eligibility/check/?country=BR"
    assert report.user_agent == "TestBrowser/1.0"
    assert report.status == ProblemReport.Status.OPEN
    # A random name under support/YYYY/MM/, never the uploaded one.
    assert re.fullmatch(r"support/\d{4}/\d{2}/[0-9a-f]{32}\.png", report.screenshot.name)
    assert "holiday" not in report.screenshot.name
    assert (media_root / report.screenshot.name).read_bytes() == png

    thanks = alice_client.get(SENT_URL).content.decode()
    assert f"SR-{report.pk:06d}" in thanks
    assert "data-support-reference" in thanks

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [settings.SUPPORT_EMAIL]
    assert report.reference in mail.subject and "alice@acme.example" in mail.subject
    for expected in (
        "0123456789abcdef",
        "/eligibility/check/?country=BR",
        "alice@acme.example",
        "Alice Owner",
        "Acme Resellers",
        "The check page said something odd.",
        f"/admin/support/problemreport/{report.pk}/change/",
    ):
        assert expected in mail.body
    html = mail.alternatives[0][0]
    assert "0123456789abcdef" in html and report.reference in html
    [(filename, content, mimetype)] = mail.attachments
    assert filename == f"{report.reference}-screenshot.png"
    assert content == png
    assert mimetype == "image/png"


def test_anonymous_reporter_with_a_jpeg_screenshot(client, db, on_commit, mailoutbox, media_root):
    jpeg = image_bytes("JPEG")
    with on_commit():
        response = client.post(
            URL,
            {
                "email": "Blocked.Person@Partner.example",
                "description": "I cannot sign in any more.",
                "screenshot": upload(
                    "shot.png", jpeg, "image/png"
                ),  # the name lies; the bytes count
            },
        )
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.user is None and report.partner is None
    assert report.email == "blocked.person@partner.example"
    assert report.screenshot.name.endswith(".jpg")
    [mail] = mailoutbox
    assert "not signed in" in mail.body
    [(filename, content, mimetype)] = mail.attachments
    assert filename.endswith(".jpg") and mimetype == "image/jpeg" and content == jpeg


def test_report_without_screenshot_is_fine(client, db, on_commit, mailoutbox, media_root):
    with on_commit():
        response = post(client)
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert not report.screenshot
    assert stored_files(media_root) == []
    assert mailoutbox[0].attachments == []


def test_signed_in_user_may_leave_the_email_empty(alice_client, alice):
    response = post(alice_client, email="")
    assert response.status_code == 302
    assert ProblemReport.objects.get().email == alice.email


def test_browser_string_is_truncated(client, db):
    client.post(URL, {"email": "a@b.example", "description": "x"}, HTTP_USER_AGENT="Mozilla " * 200)
    assert len(ProblemReport.objects.get().user_agent) == 300


def test_references_are_sequential_and_padded(client, db):
    post(client)
    report = ProblemReport.objects.get()
    assert report.reference == f"SR-{report.pk:06d}"
    assert re.fullmatch(r"SR-\d{6,}", report.reference)


def test_thank_you_page_without_a_report_goes_back_to_the_form(client, db):
    response = client.get(SENT_URL)
    assert response.status_code == 302 and response["Location"] == URL


def test_csrf_is_enforced(db, media_root, mailoutbox):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, {"email": "a@b.example", "description": "Hello"})
    assert response.status_code == 403
    assert_nothing_stored(media_root, mailoutbox)


# --- Bad screenshots ---------------------------------------------------------------------------


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


def _broken_png() -> bytes:
    png = bytearray(image_bytes("PNG", size=(32, 32), noise=True))
    png[60] ^= 0xFF  # inside the image data: the chunk checksum no longer matches
    return bytes(png)


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.png", b"just some text, not an image\n" * 10),
        ("archive.png", _zip_bytes()),
        ("animated.gif", image_bytes("GIF")),
        ("renamed-gif.png", image_bytes("GIF")),
        ("vector.svg", SVG),
        ("vector.png", SVG),
        ("bitmap.png", image_bytes("BMP")),
        ("webp.jpg", image_bytes("WEBP")),
        ("broken.png", _broken_png()),
        ("half.png", image_bytes("PNG", size=(200, 200), noise=True)[:300]),
        ("empty.png", b""),
    ],
)
def test_anything_but_a_real_png_or_jpeg_is_refused(
    client, db, media_root, mailoutbox, name, content
):
    response = post(client, screenshot=upload(name, content))
    assert response.status_code == 200
    body = response.content.decode()
    assert "The screenshot must be a PNG or JPEG image." in body or (
        not content and "The submitted file is empty." in body
    )
    assert 'id="id_screenshot_error"' in body
    assert_nothing_stored(media_root, mailoutbox)


def test_oversized_screenshot_is_refused_with_the_limit(
    client, db, media_root, mailoutbox, settings
):
    settings.SUPPORT_SCREENSHOT_MAX_BYTES = 2000
    png = image_bytes("PNG", size=(100, 100), noise=True)
    assert len(png) > 2000
    response = post(client, screenshot=upload("big.png", png))
    body = response.content.decode()
    assert "The screenshot is too large" in body and "The limit is 2.0\xa0KB" in body
    assert_nothing_stored(media_root, mailoutbox)


def test_default_limit_is_five_megabytes(settings):
    assert settings.SUPPORT_SCREENSHOT_MAX_BYTES == 5 * 1024 * 1024


@pytest.mark.parametrize("size", [(10_000, 10_000), (20_000, 10_000)])
def test_decompression_bombs_are_refused(client, db, media_root, mailoutbox, size):
    # A few kilobytes on disk, hundreds of megabytes once decoded.
    bomb = image_bytes("PNG", size=size, mode="1")
    assert len(bomb) < 100_000
    response = post(client, screenshot=upload("bomb.png", bomb))
    assert "too many pixels" in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


# --- Bad fields --------------------------------------------------------------------------------


@pytest.mark.parametrize("description", ["", "   \n\t  ", None])
def test_empty_description_is_refused(client, db, media_root, mailoutbox, description):
    response = post(client, description=description, screenshot=upload("s.png", image_bytes()))
    assert response.status_code == 200
    assert "Please tell us what you were trying to do." in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


def test_too_long_description_is_refused(client, db, media_root, mailoutbox):
    response = post(client, description="x" * 5001)
    assert "at most 5000 characters" in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


def test_description_of_exactly_the_limit_is_accepted(client, db):
    assert post(client, description="x" * 5000).status_code == 302


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b", "<script>@x.example", "a" * 250 + "@b.example", None]
)
def test_anonymous_reporter_needs_a_valid_email(client, db, media_root, mailoutbox, email):
    response = post(client, email=email)
    assert response.status_code == 200
    assert 'id="id_email_error"' in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


def test_signed_in_user_with_a_bad_email_is_refused(alice_client, media_root, mailoutbox):
    response = post(alice_client, email="nope")
    assert 'id="id_email_error"' in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


@pytest.mark.parametrize(
    "request_id",
    ["<script>alert(1)</script>", "a" * 65, "abc def", "abc\n123", "../../etc", "ab;cd", "é"],
)
def test_tampered_request_id_is_dropped(client, db, request_id):
    form = client.get(URL, {"request_id": request_id}).content.decode()
    [hidden] = re.findall(r'<input type="hidden" name="request_id"[^>]*>', form)
    assert "value=" not in hidden
    assert "<script>alert(1)</script>" not in form
    assert post(client, request_id=request_id).status_code == 302
    assert ProblemReport.objects.get().request_id == ""


@pytest.mark.parametrize(
    "page",
    [
        "https://evil.example/login",
        "//evil.example/x",
        "javascript:alert(1)",
        "requests/",
        "/with space",
        "/back\\slash",
        "/new\nline",
        "\x00/x",
    ],
)
def test_tampered_page_is_dropped(client, db, page):
    assert post(client, page=page).status_code == 302
    assert ProblemReport.objects.get().page == ""


def test_long_page_is_cut_to_500_characters(client, db):
    post(client, page="/" + "a" * 900)
    assert ProblemReport.objects.get().page == "/" + "a" * 499


def test_tampered_values_are_not_prefilled(client, db):
    body = client.get(URL, {"request_id": "x y", "page": "https://evil.example/"}).content.decode()
    assert "evil.example" not in body
    assert "x y" not in body


# --- Rate limits -------------------------------------------------------------------------------


def test_anonymous_reports_are_limited_per_address(client, db, media_root, on_commit, mailoutbox):
    with on_commit():
        for n in range(5):
            assert (
                post(client, email="same@partner.example", ip=f"10.0.0.{n + 1}").status_code == 302
            )
        blocked = post(
            client,
            email="same@partner.example",
            ip="10.0.0.99",
            screenshot=upload("s.png", image_bytes()),
        )
    assert blocked.status_code == 429
    assert "several reports in a short time" in blocked.content.decode()
    assert ProblemReport.objects.count() == 5
    assert len(mailoutbox) == 5
    assert stored_files(media_root) == []


def test_anonymous_reports_are_limited_per_ip(client, db):
    for n in range(5):
        assert post(client, email=f"person{n}@partner.example").status_code == 302
    assert post(client, email="someone-new@partner.example").status_code == 429
    assert ProblemReport.objects.count() == 5
    # Another address from another network is not affected.
    assert post(client, email="elsewhere@partner.example", ip="10.9.9.9").status_code == 302


def test_address_limit_ignores_case(client, db):
    for n in range(5):
        post(client, email="Same@Partner.example", ip=f"10.0.1.{n + 1}")
    assert post(client, email="SAME@partner.EXAMPLE", ip="10.0.1.99").status_code == 429


def test_refused_forms_do_not_use_up_the_allowance(client, db):
    for _ in range(6):
        post(client, description="")
    assert post(client).status_code == 302


def test_signed_in_users_are_limited_per_user_not_per_office(client, alice, partner):
    client.force_login(alice)
    for _ in range(10):
        assert post(client).status_code == 302
    assert post(client).status_code == 429
    colleague = UserFactory(email="carol@acme.example", partner=partner)
    client.force_login(colleague)
    assert post(client).status_code == 302
    assert ProblemReport.objects.count() == 11


# --- All or nothing ----------------------------------------------------------------------------


def test_nothing_is_kept_when_the_report_cannot_be_sent(
    client, db, media_root, mailoutbox, monkeypatch
):
    import support.services

    def broken(*args, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(support.services, "queue_email", broken)
    client.raise_request_exception = False
    response = post(client, screenshot=upload("s.png", image_bytes()))
    assert response.status_code == 500
    assert_nothing_stored(media_root, mailoutbox)


def test_only_get_and_post_are_allowed(client, db):
    assert client.put(URL).status_code == 405


def test_screenshot_over_the_limit_is_not_kept_in_memory():
    from support.forms import ScreenshotUploadHandler

    handler = ScreenshotUploadHandler(max_bytes=10_000)
    handler.new_file("screenshot", "big.png", "image/png", 50_000)
    handler.receive_data_chunk(b"x" * 8_000, 0)
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 8_000, 8_000)
    assert handler.too_large and handler.buffer is None
    assert handler.file_complete(16_000) is None


def test_body_declared_larger_than_the_limit_is_refused_unread(
    client, db, media_root, mailoutbox, settings
):
    settings.SUPPORT_SCREENSHOT_MAX_BYTES = 10_000
    big = image_bytes("PNG", size=(300, 300), noise=True)
    assert len(big) > 10_000 + 64 * 1024
    response = post(client, screenshot=upload("big.png", big))
    assert response.status_code == 413
    assert "The screenshot is too large. The limit is 9.8\xa0KB." in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


def test_screenshot_just_over_the_limit_in_a_small_body_is_refused(
    client, db, media_root, mailoutbox, settings
):
    # The body is small enough to be read; the handler drops the file part past the limit.
    settings.SUPPORT_SCREENSHOT_MAX_BYTES = 10_000
    png = image_bytes("PNG", size=(70, 70), noise=True)
    assert 10_000 < len(png) < 64 * 1024
    response = post(client, screenshot=upload("big.png", png))
    assert response.status_code == 200
    assert "The screenshot is too large" in response.content.decode()
    assert_nothing_stored(media_root, mailoutbox)


def test_other_file_fields_are_ignored(client, db, media_root, on_commit, mailoutbox):
    with on_commit():
        response = post(client, extra=upload("evil.exe", b"MZ" * 100, "application/x-msdos"))
    assert response.status_code == 302
    assert not ProblemReport.objects.get().screenshot
    assert stored_files(media_root) == []
