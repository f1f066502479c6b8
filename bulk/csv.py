"""Bulk-check CSV files: reading what spreadsheets write, and writing spreadsheet-safe reports.

The upload is inspected once, in full, before a job is queued (so every rejection is immediate);
the worker then reads the stored bytes again as a stream with the same reader, so both count the
same rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.formats import number_format
from django.utils.translation import gettext as _

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

UTF8 = "utf-8-sig"  # also reads UTF-8 without a BOM
CP1252 = "cp1252"  # what Excel on Windows writes for "CSV (comma delimited)"
DELIMITERS = (",", ";", "\t")
BOM = "\ufeff"
SNIFF_BYTES = 64 * 1024

# Cells a spreadsheet would run as a formula (plus their full-width forms, which some
# spreadsheets normalise) get a leading apostrophe in reports.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")

# Signatures of files that people upload by mistake, and how to name them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "xlsx"),
    (b"PK\x05\x06", "xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"\x1f\x8b", "archive"),
    (b"Rar!", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"{\\rtf", "rtf"),
    (b"\xff\xfe", "utf16"),
    (b"\xfe\xff", "utf16"),
)
# C0/C1 control characters other than tab, line feed, vertical tab, form feed, carriage return.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_COLUMN_SEPARATORS = re.compile(r"[\s\-]+")


class UploadRejected(Exception):
    """The upload cannot be checked; `message` tells the partner what is wrong."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CsvLayout:
    encoding: str
    delimiter: str
    header: list[str]
    row_count: int


def _kind_message(kind: str) -> str:
    save_as = _(
        "In your spreadsheet, choose “Save as” › “CSV UTF-8 (comma delimited)” and "
        "upload that file."
    )
    described = {
        "xlsx": _("This is an Excel workbook or a ZIP archive, not a CSV file."),
        "xls": _("This is an Excel workbook (.xls), not a CSV file."),
        "pdf": _("This is a PDF document, not a CSV file."),
        "image": _("This is an image, not a CSV file."),
        "archive": _("This is a compressed archive, not a CSV file."),
        "rtf": _("This is a text document (RTF), not a CSV file."),
        "utf16": _("This file is saved as UTF-16 (“Unicode text”), which we cannot read."),
        "binary": _("This file is not a text CSV file."),
    }[kind]
    return f"{described} {save_as}"


def normalise_column(name: str) -> str:
    """`Tax ID`, ` TAX_ID `, `tax-id` → `tax_id`; a stray BOM (even mis-decoded) is ignored."""
    name = name.replace(BOM, "").replace("ï»¿", "").strip().lower()
    return _COLUMN_SEPARATORS.sub("_", name)


def is_blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()


class Columns:
    """Where each known column sits in the file's rows."""

    def __init__(self, header: list[str]):
        self.header = header
        self.width = len(header)
        names = [normalise_column(name) for name in header]
        self.index: dict[str, int] = {}
        duplicates = []
        for position, name in enumerate(names):
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


Row = tuple[int, list[str]]  # (line, cells)


def read_rows(text: Iterable[str], delimiter: str) -> tuple[list[str], Iterator[Row]]:
    """The header and an iterator of (line, cells) for the non-blank rows after it.

    `line` is the row number a spreadsheet shows (the header is usually line 1), so a report
    can point at it; blank rows count as lines but are not returned.
    """
    reader = csv.reader(text, delimiter=delimiter)
    line = 0
    header: list[str] = []
    for cells in reader:
        line += 1
        if not is_blank(cells):
            header = [cell.strip() for cell in cells]
            break

    def rows() -> Iterator[Row]:
        number = line
        for cells in reader:
            number += 1
            if not is_blank(cells):
                yield number, cells

    return header, rows()


def text_stream(stream: BinaryIO, encoding: str, errors: str = "strict") -> io.TextIOWrapper:
    """Decode a byte stream lazily; newline="" keeps line breaks inside quoted cells intact."""
    return io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")


def sniff_delimiter(first_line: str) -> str:
    """The delimiter used most in the header line outside quotes (comma when none is)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _first_line(sample: str) -> str:
    for line in re.split(r"\r\n|\r|\n", sample):
        if line.strip(f" \t{BOM}"):
            return line
    return ""


def _binary_kind(data: bytes) -> str:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if b"\x00" in data:
        return "binary"
    return ""


def _decode_sample(data: bytes) -> tuple[str, str]:
    """Pick the encoding: UTF-8 when the whole file is valid UTF-8, else Windows-1252."""
    for encoding in (UTF8, CP1252):
        try:
            # Decoding the whole file once proves the choice for every row before queuing.
            str(data, encoding)
        except UnicodeDecodeError:
            continue
        return encoding, data[:SNIFF_BYTES].decode(encoding, errors="ignore")
    raise UploadRejected(
        _(
            "The file contains characters we cannot read. Save it from your spreadsheet as "
            "“CSV UTF-8” and upload it again."
        )
    )


def _csv_error_message(error: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(error):
        return _(
            "Line %(line)s has a cell longer than %(limit)s characters; a missing closing "
            'quote (") can cause this.'
        ) % {
            "line": line,
            "limit": number_format(csv.field_size_limit(), force_grouping=True),
        }
    return _('Line %(line)s cannot be read as CSV. Check its quotes (").') % {"line": line}


def inspect_upload(data: bytes, *, max_rows: int) -> CsvLayout:
    """Check that `data` is a CSV we can process and count its rows; raise UploadRejected."""
    if not data.strip(b" \t\r\n\x0b\x0c").removeprefix(b"\xef\xbb\xbf").strip():
        raise UploadRejected(_("The file is empty."))
    kind = _binary_kind(data)
    if kind:
        raise UploadRejected(_kind_message(kind))
    encoding, sample = _decode_sample(data)
    if len(_CONTROL.findall(sample)) > len(sample) // 100:
        raise UploadRejected(_kind_message("binary"))
    delimiter = sniff_delimiter(_first_line(sample))

    stream = text_stream(io.BytesIO(data), encoding)
    reader_line = 0
    try:
        header, rows = read_rows(stream, delimiter)
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
        count = 0
        for reader_line, _cells in rows:  # noqa: B007 - the line is used in error messages
            count += 1
            if count > max_rows:
                raise UploadRejected(
                    _("The file has more than %(max)s rows. Split it into smaller files.")
                    % {"max": number_format(max_rows, force_grouping=True)}
                )
    except csv.Error as error:
        raise UploadRejected(_csv_error_message(error, reader_line + 1)) from error
    finally:
        stream.detach()
    if not count:
        raise UploadRejected(_("The file has a header line but no rows to check."))
    return CsvLayout(encoding=encoding, delimiter=delimiter, header=header, row_count=count)


def safe_cell(value: str) -> str:
    """Neutralise a cell that a spreadsheet would otherwise run as a formula."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


class ReportWriter:
    """Report lines as CSV bytes (UTF-8), every cell spreadsheet-safe."""

    def __init__(self, delimiter: str):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter, lineterminator="\r\n")

    def write(self, cells: Iterable[str]) -> None:
        # safe_cell, inlined: this runs for every cell of every row.
        triggers = FORMULA_TRIGGERS
        self._writer.writerow(
            ["'" + cell if cell and cell[0] in triggers else cell for cell in cells]
        )

    def getvalue(self) -> bytes:
        return self._buffer.getvalue().encode("utf-8")


def report_header(header: list[str], delimiter: str) -> bytes:
    """The report's first line, with a BOM so spreadsheets read the file as UTF-8."""
    writer = ReportWriter(delimiter)
    writer.write([*header, *REPORT_COLUMNS])
    return BOM.encode("utf-8") + writer.getvalue()


def template_csv() -> bytes:
    writer = ReportWriter(",")
    writer.write(TEMPLATE_COLUMNS)
    writer.write(TEMPLATE_EXAMPLE)
    return BOM.encode("utf-8") + writer.getvalue()
