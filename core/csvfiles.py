"""CSV files as spreadsheets write them: the one reader (bulk uploads and registry imports) and
the one spreadsheet-safe rule for every CSV the product writes.

Reading accepts UTF-8 with or without a BOM and Windows-1252 (what Excel writes), a `,`, `;` or
tab delimiter (sniffed from the header line), quoted cells with delimiters, quotes and line
breaks, any line ending, and blank lines. Workbooks, PDFs, images and other binary files are
recognised and refused with a message that says what they are.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from django.utils.translation import gettext as _

UTF8: Final = "utf-8-sig"  # also reads UTF-8 without a BOM
CP1252: Final = "cp1252"  # what Excel on Windows writes for "CSV (comma delimited)"
DELIMITERS: Final = (",", ";", "\t")
BOM: Final = "\ufeff"
SNIFF_BYTES: Final = 64 * 1024
# The encoding check reads the file in pieces of this size, so memory stays flat.
_READ_BYTES: Final = 1024 * 1024

# Cells a spreadsheet would run as a formula (plus their full-width forms, which some
# spreadsheets normalise) get a leading apostrophe in every CSV the product writes.
FORMULA_TRIGGERS: Final = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Spaces a spreadsheet skips before a formula ("  =1+1" still runs): plain, no-break, ideographic.
LEADING_SPACES: Final = " \u00a0\u3000"
# What a cell may start with when it needs a look (a trigger, or spaces before one).
_SUSPECT_STARTS: Final = FORMULA_TRIGGERS | frozenset(LEADING_SPACES)

# Signatures of files that people send by mistake, and how to name them.
_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
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
_CONTROL: Final = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_COLUMN_SEPARATORS: Final = re.compile(r"[\s\-]+")
_LINE_BREAKS: Final = re.compile(r"\r\n|\r|\n")

Row = tuple[int, list[str]]  # (line, cells)


class CsvRejected(Exception):
    """The file cannot be read as CSV; `message` says why, for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


@dataclass(frozen=True)
class CsvLayout:
    """How a file is written: its encoding and its delimiter."""

    encoding: str
    delimiter: str


# --- Writing ------------------------------------------------------------------------------------


def spreadsheet_safe(cell: str) -> str:
    """The cell with a leading apostrophe when a spreadsheet would run it as a formula: its
    first character that is not a space is one of FORMULA_TRIGGERS."""
    if cell[:1] in _SUSPECT_STARTS and cell.lstrip(LEADING_SPACES)[:1] in FORMULA_TRIGGERS:
        return "'" + cell
    return cell


class SafeCsvWriter:
    """CSV lines as UTF-8 bytes, every cell spreadsheet-safe, CRLF line endings."""

    def __init__(self, delimiter: str = ",") -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter, lineterminator="\r\n")

    def write(self, cells: Iterable[str]) -> None:
        # spreadsheet_safe, inlined: this runs for every cell of every row of a report.
        suspect, spaces, triggers = _SUSPECT_STARTS, LEADING_SPACES, FORMULA_TRIGGERS
        self._writer.writerow(
            [
                "'" + cell if cell[:1] in suspect and cell.lstrip(spaces)[:1] in triggers else cell
                for cell in cells
            ]
        )

    def getvalue(self) -> bytes:
        return self._buffer.getvalue().encode("utf-8")


# --- Recognising the file -------------------------------------------------------------------


def kind_message(kind: str) -> str:
    """What the file is instead of a CSV, and how to save a CSV from a spreadsheet."""
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


def binary_kind(head: bytes) -> str:
    """The kind of non-CSV file that starts with `head` ("" when it may be text)."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if b"\x00" in head:
        return "binary"
    return ""


def is_empty(head: bytes) -> bool:
    return not head.strip(b" \t\r\n\x0b\x0c").removeprefix(b"\xef\xbb\xbf").strip()


def _readable_encodings(stream: BinaryIO) -> list[str]:
    """The encodings (UTF-8, Windows-1252) that decode the whole stream, read piece by piece."""
    decoders = {name: codecs.getincrementaldecoder(name)() for name in (UTF8, CP1252)}
    while decoders and (piece := stream.read(_READ_BYTES)):
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(piece)
            except UnicodeDecodeError:
                del decoders[name]
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[name]
    return list(decoders)


def detect_layout(stream: BinaryIO) -> CsvLayout:
    """Recognise a CSV file (a seekable byte stream, left at its start), or raise CsvRejected.

    UTF-8 is chosen when the whole file is valid UTF-8, else Windows-1252; the whole file is
    decoded once here, so a choice is never proved wrong half-way through an import.
    """
    head = stream.read(SNIFF_BYTES)
    if len(head) < SNIFF_BYTES and is_empty(head):
        raise CsvRejected(_("The file is empty."))
    kind = binary_kind(head)
    if kind:
        raise CsvRejected(kind_message(kind))
    stream.seek(0)
    encodings = _readable_encodings(stream)
    stream.seek(0)
    if not encodings:
        raise CsvRejected(
            _(
                "The file contains characters we cannot read. Save it from your spreadsheet as "
                "“CSV UTF-8” and upload it again."
            )
        )
    sample = head.decode(encodings[0], errors="ignore")
    if len(_CONTROL.findall(sample)) > len(sample) // 100:
        raise CsvRejected(kind_message("binary"))
    return CsvLayout(encoding=encodings[0], delimiter=sniff_delimiter(_first_line(sample)))


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
    for line in _LINE_BREAKS.split(sample):
        if line.strip(f" \t{BOM}"):
            return line
    return ""


# --- Reading the rows -----------------------------------------------------------------------


def text_stream(stream: BinaryIO, encoding: str, errors: str = "strict") -> io.TextIOWrapper:
    """Decode a byte stream lazily; newline="" keeps line breaks inside quoted cells intact."""
    return io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")


def normalise_column(name: str) -> str:
    """`Tax ID`, ` TAX_ID `, `tax-id` → `tax_id`; a stray BOM (even mis-decoded) is ignored."""
    name = name.replace(BOM, "").replace("ï»¿", "").strip().lower()
    return _COLUMN_SEPARATORS.sub("_", name)


def is_blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()


class UnclosedQuote(csv.Error):
    """A quoted cell opened on `line` is never closed: the rest of the file would be one cell."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}: a quote is never closed")
        self.line = line


class _RecordText:
    """The text lines the CSV reader took for the record it is reading, and whether the file
    ended while it read them (only the last record can hold a quote that never closes)."""

    def __init__(self, text: Iterable[str]) -> None:
        self.text = text
        self.lines: list[str] = []
        self.ended = False

    def __iter__(self) -> Iterator[str]:
        lines = self.lines
        for piece in self.text:
            lines.append(piece)
            yield piece
        self.ended = True

    def unclosed_quote(self, delimiter: str) -> bool:
        """The record's last quoted cell is still open at the end of its text."""
        quoted = False
        at_cell_start = True
        text = "".join(self.lines)
        position, end = 0, len(text)
        while position < end:
            char = text[position]
            if quoted:
                if char == '"':
                    if text[position + 1 : position + 2] == '"':
                        position += 1  # an escaped quote inside the cell
                    else:
                        quoted = False
            elif char == '"' and at_cell_start:
                quoted = True
            at_cell_start = not quoted and char in (delimiter, "\n", "\r")
            position += 1
        return quoted


def read_rows(text: Iterable[str], delimiter: str) -> tuple[list[str], Iterator[Row]]:
    """The header and an iterator of (line, cells) for the non-blank rows after it.

    `line` is the row number a spreadsheet shows (the header is usually line 1), so a report
    can point at it; blank rows count as lines but are not returned. Malformed CSV raises
    csv.Error from the iterator, and a quote that is never closed (which would swallow the
    rest of the file into one cell) UnclosedQuote with the line where it opened; each caller
    words them for its readers.
    """
    record = _RecordText(text)
    reader = csv.reader(record, delimiter=delimiter)
    line = 0
    header: list[str] = []
    for cells in reader:
        line += 1
        if record.ended and record.unclosed_quote(delimiter):
            raise UnclosedQuote(line)
        record.lines.clear()
        if not is_blank(cells):
            header = [cell.strip() for cell in cells]
            break

    def rows() -> Iterator[Row]:
        number = line
        lines = record.lines
        for cells in reader:
            number += 1
            if record.ended and record.unclosed_quote(delimiter):
                raise UnclosedQuote(number)
            lines.clear()
            if not is_blank(cells):
                yield number, cells

    return header, rows()
