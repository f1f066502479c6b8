"""Bulk-check files: the template's columns, checking an upload, and the report's lines.

Reading itself (encodings, delimiters, quoting, binary files) is core.csvfiles, shared with the
registry import. The upload is inspected once, in full, before a job is queued (so every
rejection is immediate); the worker then reads the stored bytes again as a stream with the same
reader, so both count the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.csvfiles import (
    BOM,
    CsvRejected,
    SafeCsvWriter,
    UnclosedQuote,
    detect_layout,
    kind_message,
    normalise_column,
    read_rows,
    text_stream,
)

TAX_ID = "tax_id"
TEMPLATE_COLUMNS = (
    "country",
    "tax_id",
    "company_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "employee_count",
    "business_model",
)
REPORT_COLUMNS = ("result", "reason", "request_reference")
# A made-up company: the row shows the format and must be replaced by real ones.
TEMPLATE_EXAMPLE = (
    "BR",
    "11.222.333/0001-81",
    "Example Company Ltda",
    "Maria Silva",
    "maria.silva@example.com",
    "11 3456-7890",
    "250",
    "reseller",
)


class UploadRejected(CsvRejected):
    """The upload cannot be checked; `message` tells the partner what is wrong."""


@dataclass(frozen=True)
class UploadLayout:
    encoding: str
    delimiter: str
    header: list[str]
    row_count: int


class Columns:
    """Where each known column sits in the file's rows."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.width = len(header)
        self.index: dict[str, int] = {}
        duplicates: list[str] = []
        for position, name in enumerate(normalise_column(name) for name in header):
            if not name:
                continue
            if name in self.index:
                if name in TEMPLATE_COLUMNS and name not in duplicates:
                    duplicates.append(name)
                continue
            self.index[name] = position
        self.duplicates = duplicates

    def getter(self, name: str) -> Callable[[list[str]], str]:
        """A fast accessor for one column: the stripped cell, "" when absent or short."""
        position = self.index.get(name)
        if position is None:
            return lambda cells: ""
        return lambda cells: cells[position].strip() if position < len(cells) else ""

    def extra_cells(self, cells: list[str]) -> int:
        """How many non-empty cells a row has beyond the header (0 is normal)."""
        if len(cells) <= self.width:
            return 0
        return sum(1 for cell in cells[self.width :] if cell.strip())

    def fit(self, cells: list[str]) -> list[str]:
        """The row cut or padded to the header's width (for the report)."""
        if len(cells) == self.width:
            return cells
        if len(cells) > self.width:
            return cells[: self.width]
        return cells + [""] * (self.width - len(cells))


def _csv_error_message(error: csv.Error, line: int) -> str:
    if isinstance(error, UnclosedQuote):
        return _(
            'Line %(line)s opens a quote (") that is never closed, so every line after it '
            "would be read as one cell. Close or remove that quote and upload the file again."
        ) % {"line": error.line}
    if "field larger than field limit" in str(error):
        return _(
            "Line %(line)s has a cell longer than %(limit)s characters; a missing closing "
            'quote (") can cause this.'
        ) % {
            "line": line,
            "limit": number_format(csv.field_size_limit(), force_grouping=True),
        }
    return _('Line %(line)s cannot be read as CSV. Check its quotes (").') % {"line": line}


def _check_columns(header: list[str]) -> None:
    if not header:
        raise UploadRejected(_("The file is empty."))
    columns = Columns(header)
    if columns.duplicates:
        raise UploadRejected(
            _("The column %(column)s appears more than once in the first line.")
            % {"column": columns.duplicates[0]}
        )
    if TAX_ID not in columns.index:
        found = ", ".join(name[:40] for name in header[:10] if name) or _("nothing")
        raise UploadRejected(
            _(
                "The file has no tax_id column. Its first line must name the columns, as in "
                "the template (country,tax_id,…); we found: %(found)s."
            )
            % {"found": found}
        )


def inspect_upload(data: bytes, *, max_rows: int) -> UploadLayout:
    """Check that `data` is a CSV we can process and count its rows; raise UploadRejected."""
    try:
        layout = detect_layout(io.BytesIO(data))
    except CsvRejected as rejected:
        raise UploadRejected(rejected.message) from rejected
    if b"\x00" in data:  # anywhere, not only at the start: a partner's file is small
        raise UploadRejected(kind_message("binary"))
    stream = text_stream(io.BytesIO(data), layout.encoding)
    line = count = 0
    try:
        header, rows = read_rows(stream, layout.delimiter)
        _check_columns(header)
        for line, _cells in rows:  # noqa: B007 - the line is used in error messages
            count += 1
            if count > max_rows:
                raise UploadRejected(
                    _("The file has more than %(max)s rows. Split it into smaller files.")
                    % {"max": number_format(max_rows, force_grouping=True)}
                )
    except csv.Error as error:
        raise UploadRejected(_csv_error_message(error, line + 1)) from error
    finally:
        stream.detach()
    if not count:
        raise UploadRejected(_("The file has a header line but no rows to check."))
    return UploadLayout(layout.encoding, layout.delimiter, header, count)


def report_header(header: list[str], delimiter: str) -> bytes:
    """The report's first line, with a BOM so spreadsheets read the file as UTF-8."""
    writer = SafeCsvWriter(delimiter)
    writer.write([*header, *REPORT_COLUMNS])
    return BOM.encode("utf-8") + writer.getvalue()


def template_csv() -> bytes:
    writer = SafeCsvWriter(",")
    writer.write(TEMPLATE_COLUMNS)
    writer.write(TEMPLATE_EXAMPLE)
    return BOM.encode("utf-8") + writer.getvalue()
