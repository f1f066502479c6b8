"""An upload handler that keeps one file field in memory, up to a size limit.

Django's own handlers spool large uploads to disk before a view can refuse them. This one is
the only handler of the views that take uploads, so nothing reaches the disk and a huge body
costs one small buffer: past the limit the file is skipped (the parser reads on to the other
fields, throwing the bytes away) and `too_large` tells the view why the file is missing.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

# Room for a form's other parts (CSRF token, text fields, multipart headers) around its file.
FORM_OVERHEAD_BYTES = 64 * 1024


def declared_too_large(request: HttpRequest, *, max_file_bytes: int) -> bool:
    """The body announces more than the file limit allows: refuse before reading any of it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max_file_bytes + FORM_OVERHEAD_BYTES


class CappedMemoryUploadHandler(FileUploadHandler):
    accepted_field = ""  # the one file field this handler keeps; others are skipped

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.buffer: io.BytesIO | None = None
        self.received = 0

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != self.accepted_field:
            raise SkipFile
        self.buffer = io.BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.buffer = None
            raise SkipFile
        if self.buffer is not None:  # None only for a file that new_file skipped
            self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
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
