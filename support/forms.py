"""The "Report a problem" form: field rules and the screenshot check."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from accounts.models import User
from core.uploads import CappedMemoryUploadHandler

DESCRIPTION_MAX_CHARS = 5000
PAGE_MAX_CHARS = 500
# Far above any real screen (an 8K display is 33 megapixels), far below a decompression bomb.
SCREENSHOT_MAX_PIXELS = 50_000_000
SCREENSHOT_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}
SCREENSHOT_FIELD = "screenshot"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_UNSAFE_IN_PAGE = re.compile(r"[\x00-\x20\x7f\\]")


def clean_request_id(value: str | None) -> str:
    """The request ID from an error page, or "" when it is not one we could have issued."""
    value = (value or "").strip()
    return value if _REQUEST_ID.fullmatch(value) else ""


def clean_page(value: str | None) -> str:
    """A path on this site ("/…", not "//host"), cut to PAGE_MAX_CHARS, or ""."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or _UNSAFE_IN_PAGE.search(value):
        return ""
    return value[:PAGE_MAX_CHARS]


def too_large_error(size: int | None = None) -> forms.ValidationError:
    limit = filesizeformat(settings.SUPPORT_SCREENSHOT_MAX_BYTES)
    if size is None:
        return forms.ValidationError(
            _("The screenshot is too large. The limit is %(limit)s."),
            code="too_large",
            params={"limit": limit},
        )
    return forms.ValidationError(
        _("The screenshot is too large (%(size)s). The limit is %(limit)s."),
        code="too_large",
        params={"size": filesizeformat(size), "limit": limit},
    )


class ScreenshotUploadHandler(CappedMemoryUploadHandler):
    """Keeps the screenshot in memory up to SUPPORT_SCREENSHOT_MAX_BYTES; never on disk."""

    accepted_field = SCREENSHOT_FIELD


class Screenshot:
    """What the check learnt about an accepted screenshot."""

    def __init__(self, upload: UploadedFile, image_format: str) -> None:
        self.upload = upload
        self.extension, self.mimetype = SCREENSHOT_FORMATS[image_format]


def inspect_screenshot(upload: UploadedFile) -> Screenshot:
    """Accept a real PNG or JPEG within the size and pixel limits, whatever its name says."""
    if (upload.size or 0) > settings.SUPPORT_SCREENSHOT_MAX_BYTES:
        raise too_large_error(upload.size)
    not_an_image = forms.ValidationError(
        _("The screenshot must be a PNG or JPEG image."), code="not_an_image"
    )
    too_many_pixels = forms.ValidationError(
        _("The screenshot has too many pixels to be a screen capture."), code="too_many_pixels"
    )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the PNG and JPEG decoders are tried: a GIF, SVG, ZIP or text file renamed
            # to .png is not identified at all.
            with Image.open(upload, formats=list(SCREENSHOT_FORMATS)) as image:
                image_format = image.format
                width, height = image.size
                if width * height > SCREENSHOT_MAX_PIXELS:
                    raise too_many_pixels
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_many_pixels from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # verify() reports broken files as OSError, SyntaxError or ValueError.
        raise not_an_image from exc
    finally:
        upload.seek(0)
    if image_format not in SCREENSHOT_FORMATS:
        raise not_an_image
    return Screenshot(upload, image_format)


class CarriedOverField(forms.Field):
    """A hidden value carried over from the error page: cleaned by `cleaner`, never an error."""

    widget = forms.HiddenInput

    def __init__(self, cleaner: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.cleaner = cleaner

    def clean(self, value: Any) -> str:
        return self.cleaner(value if isinstance(value, str) else "")


class ProblemReportForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail"),
        max_length=254,
        help_text=_("Support answers at this address."),
    )
    description = forms.CharField(
        label=_("What were you trying to do?"),
        max_length=DESCRIPTION_MAX_CHARS,
        error_messages={"required": _("Please tell us what you were trying to do.")},
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Tell us what you did, what you expected and what happened instead."),
    )
    screenshot = forms.FileField(
        label=_("Screenshot (optional)"),
        required=False,
        help_text=_("A PNG or JPEG image, up to %(limit)s."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    # Carried over from the error page; bad values are dropped, never shown as errors.
    page = CarriedOverField(clean_page)
    request_id = CarriedOverField(clean_request_id)

    def __init__(
        self,
        *args: Any,
        user: User | AnonymousUser | None = None,
        screenshot_too_large: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user if user is not None and user.is_authenticated else None
        self.screenshot_too_large = screenshot_too_large
        if self.user is not None:
            self.fields["email"].required = False
            self.fields["email"].initial = self.user.email
        self.fields["screenshot"].help_text = self.fields["screenshot"].help_text % {
            "limit": filesizeformat(settings.SUPPORT_SCREENSHOT_MAX_BYTES)
        }
        for field in self.fields.values():
            if not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs.setdefault("class", "form-control")

    @property
    def error_reference(self) -> str:
        """The request ID to show beside the form: only one that passes the check."""
        return clean_request_id(self["request_id"].value())

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].lower()
        if not email and self.user is not None:
            return self.user.email
        return email

    def clean_screenshot(self) -> Screenshot | None:
        if self.screenshot_too_large:
            raise too_large_error()
        upload = self.cleaned_data.get("screenshot")
        if not upload:
            return None
        return inspect_screenshot(upload)
