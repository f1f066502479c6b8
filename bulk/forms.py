"""The bulk-check upload form and the upload handler that keeps big bodies out of memory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner
from bulk.models import BulkCheckJob
from bulk.services import allowed_modes, mode_refused_message, size_limit_message
from core.uploads import CappedMemoryUploadHandler

UPLOAD_FIELD = "file"


class BulkUploadHandler(CappedMemoryUploadHandler):
    """Keeps the uploaded CSV in memory up to BULK_MAX_BYTES; nothing is written to disk."""

    accepted_field = UPLOAD_FIELD


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

    def __init__(
        self, *args: Any, partner: Partner, upload_too_large: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.upload_too_large = upload_too_large
        self.fields["file"].required = not upload_too_large
        allowed = allowed_modes(partner)
        # Only the modes this partner may use are offered; the rest are refused in clean_mode.
        self.mode_choices = [
            (value, label) for value, label in BulkCheckJob.Mode.choices if value in allowed
        ]
        self.allowed_modes = allowed

    def clean_file(self) -> UploadedFile | None:
        if self.upload_too_large:
            raise forms.ValidationError(size_limit_message())
        upload: UploadedFile | None = self.cleaned_data["file"]
        return upload

    def clean_mode(self) -> str:
        mode: str = self.cleaned_data["mode"]
        if mode not in self.allowed_modes:
            raise forms.ValidationError(mode_refused_message())
        return mode
