"""The bulk-check upload form and the upload handler that keeps big bodies out of memory."""

from __future__ import annotations

import io

from django import forms
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner
from eligibility.bulk_models import BulkCheckJob
from eligibility.bulk_services import allowed_modes, mode_refused_message, size_limit_message

UPLOAD_FIELD = "file"


class BulkUploadHandler(FileUploadHandler):
    """Keeps the `file` part in memory up to `max_bytes`; beyond that, the rest is discarded.

    Only this handler runs for the upload view, so nothing is written to disk and a huge body
    costs one small buffer: past the limit the file is skipped (the parser reads on to the
    other fields, throwing the bytes away) and `too_large` tells the view why it is missing.
    """

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.buffer: io.BytesIO | None = None

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        if field_name != UPLOAD_FIELD:
            raise SkipFile
        self.buffer = io.BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.buffer = None
            raise SkipFile
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self.buffer is None:
            return None
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        error_messages={
            "required": _("Choose a CSV file to upload."),
            "empty": _("The file is empty."),
        },
    )
    mode = forms.ChoiceField(
        label=_("What to do"),
        choices=BulkCheckJob.Mode.choices,
        initial=BulkCheckJob.Mode.CHECK,
    )

    def __init__(self, *args, partner: Partner, upload_too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.upload_too_large = upload_too_large
        self.fields["file"].required = not upload_too_large
        allowed = allowed_modes(partner)
        # Only the modes this partner may use are offered; the rest are refused in clean_mode.
        self.mode_choices = [
            (value, label) for value, label in BulkCheckJob.Mode.choices if value in allowed
        ]
        self.allowed_modes = allowed

    def clean_file(self):
        if self.upload_too_large:
            raise forms.ValidationError(size_limit_message())
        return self.cleaned_data["file"]

    def clean_mode(self) -> str:
        mode = self.cleaned_data["mode"]
        if mode not in self.allowed_modes:
            raise forms.ValidationError(mode_refused_message())
        return mode
