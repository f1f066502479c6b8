"""Loading the company registry from CSV: the one import service.

`manage.py import_companies` and the admin's import jobs (eligibility.import_jobs) both call
`import_companies`. A file has the columns `country,tax_id,legal_name,status,products,paid_by`
(eligibility.registry_rows holds the row rules). It is read by the one CSV reader
(core.csvfiles): UTF-8 with or without a BOM or Windows-1252, `,` `;` or tab. Each row
describes a company as it is now: its status, the products it has (`|`-separated codes) and who
pays for them (`client`, or a partner's name).

The file is streamed: rows are validated one by one, invalid ones are reported with their line
numbers, and the valid ones are staged, then applied with set-based statements — on
PostgreSQL through COPY and a temporary table (eligibility.sql.registry, memory flat whatever
the file's size), elsewhere through the ORM (eligibility.registry_orm). A company on two lines
takes the later one, and the earlier is reported. The whole import is ONE transaction: a file
that fails half-way (a database error, a kill, Ctrl-C) leaves the registry exactly as it was,
and a re-run of the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.csvfiles import (
    CsvRejected,
    UnclosedQuote,
    detect_layout,
    normalise_column,
    read_rows,
    text_stream,
)
from eligibility.importer_types import (
    ImportCounts,
    ImportFileError,
    PhaseCallback,
    ProblemCallback,
    Progress,
    ProgressCallback,
)
from eligibility.models import Company, Subscription
from eligibility.registry_orm import OrmRegistryLoad
from eligibility.registry_rows import (
    COLUMNS,
    Catalog,
    CompanyRow,
    RowInvalid,
    missing_columns_message,
    parse_row,
)
from eligibility.sql.registry import SqlRegistryLoad

__all__ = ["ImportCounts", "ImportFileError", "Progress", "import_companies", "inspect_file"]

DEFAULT_CHUNK_SIZE = 5_000
# A registry line is short; anything bigger is not a company row (and would bloat memory).
MAX_FIELD_BYTES = 64 * 1024
_ANALYZE_AFTER_ROWS = 10_000
# How often (in rows) the reading reports its progress.
_PROGRESS_EVERY = 10_000


class RegistryLoad(Protocol):
    """A way of writing the registry: stage the valid rows, then apply them."""

    def stage(self, rows: Iterable[CompanyRow]) -> None: ...

    def apply(self, *, dry_run: bool, delete_missing: bool) -> None: ...


def _quiet_progress(progress: Progress) -> None:
    return None


def import_companies(
    *,
    stream: BinaryIO,
    on_problem: ProblemCallback,
    dry_run: bool = False,
    delete_missing: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback = _quiet_progress,
) -> ImportCounts:
    """Load a registry CSV (a seekable binary stream) in one transaction; return the counts.

    Row problems go to `on_problem(line, message)` as they are found (repeated lines once the
    file is read). A file that cannot be read raises ImportFileError and writes nothing.
    `delete_missing` takes the file as a full export: a company absent from it stops being a
    client — `client` becomes `prospect`, `blocked` stays, all its subscriptions are removed;
    none is deleted (requests and the check log point at them). It is left out, and
    `missing_left_alone` says why, when the file has invalid lines or no company at all.
    """
    counts = ImportCounts()
    catalog = Catalog.load()
    total_bytes = _size(stream)
    text, delimiter = _open_text(stream)
    previous_limit = csv.field_size_limit(MAX_FIELD_BYTES)

    def phase(name: str) -> None:
        read = stream.tell() if name == "reading" else total_bytes
        on_progress(Progress(name, counts.rows, read, total_bytes))

    try:
        rows = _valid_rows(
            text, delimiter, catalog=catalog, counts=counts, on_problem=on_problem, phase=phase
        )
        with transaction.atomic():
            loader = _loader(counts, on_problem, phase, chunk_size)
            loader.stage(rows)
            refusal = _missing_refusal(counts) if delete_missing else ""
            counts.missing_left_alone = refusal
            loader.apply(dry_run=dry_run, delete_missing=delete_missing and not refusal)
            if dry_run:
                transaction.set_rollback(True)  # belt and braces: nothing is kept
    finally:
        csv.field_size_limit(previous_limit)
        text.detach()
    if not dry_run and counts.created + counts.subscriptions_created >= _ANALYZE_AFTER_ROWS:
        _refresh_statistics()
    return counts


def inspect_file(stream: BinaryIO) -> None:
    """Refuse at once a file that cannot be imported (not a CSV, unreadable, wrong header).

    Reads the whole file once to prove its encoding, in pieces (memory stays flat), and its
    header; the stream is left at its start.
    """
    text, delimiter = _open_text(stream)
    try:
        header, _rows = read_rows(text, delimiter)
        _columns(header)
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not a valid CSV (%(error)s).") % {"error": exc}
        ) from exc
    finally:
        text.detach()
        stream.seek(0)


def _loader(
    counts: ImportCounts, on_problem: ProblemCallback, phase: PhaseCallback, chunk_size: int
) -> RegistryLoad:
    now = timezone.now()
    if connection.vendor == "postgresql":
        return SqlRegistryLoad(counts=counts, on_problem=on_problem, on_phase=phase, now=now)
    return OrmRegistryLoad(
        counts=counts, on_problem=on_problem, on_phase=phase, now=now, chunk_size=chunk_size
    )


def _missing_refusal(counts: ImportCounts) -> str:
    """Why companies absent from this file must not be taken for gone ("" when they may)."""
    if counts.invalid:
        return ngettext(
            "%(count)d line of the file is invalid and its company could be taken for "
            "missing; fix it and import the file again.",
            "%(count)d lines of the file are invalid and their companies could be taken for "
            "missing; fix them and import the file again.",
            counts.invalid,
        ) % {"count": counts.invalid}
    if not counts.rows - counts.duplicates:
        return _("The file holds no company: it cannot be a full export of the registry.")
    return ""


def _size(stream: BinaryIO) -> int:
    try:
        size = stream.seek(0, io.SEEK_END)
    finally:
        stream.seek(0)
    return size


def _open_text(stream: BinaryIO) -> tuple[io.TextIOWrapper, str]:
    """Recognise the file (encoding, delimiter) and return it as text, with its delimiter."""
    try:
        layout = detect_layout(stream)
    except CsvRejected as rejected:
        raise ImportFileError(rejected.message) from rejected
    return text_stream(stream, layout.encoding), layout.delimiter


def _columns(header: list[str]) -> list[str]:
    if not header:
        raise ImportFileError(_("The file is empty."))
    columns = [normalise_column(name) for name in header]
    missing = [name for name in COLUMNS if name not in columns]
    if missing:
        raise ImportFileError(missing_columns_message(missing))
    return columns


def _valid_rows(
    text: io.TextIOWrapper,
    delimiter: str,
    *,
    catalog: Catalog,
    counts: ImportCounts,
    on_problem: ProblemCallback,
    phase: PhaseCallback,
) -> Iterator[CompanyRow]:
    """The file's valid rows, in file order; invalid ones are counted and reported."""
    line = 0
    try:
        header, rows = read_rows(text, delimiter)
        columns = _columns(header)
        width = len(columns)
        for line, values in rows:
            counts.rows += 1
            if counts.rows % _PROGRESS_EVERY == 0:
                phase("reading")
            if len(values) != width:
                counts.invalid += 1
                on_problem(
                    line,
                    _("Expected %(expected)d values, found %(found)d.")
                    % {"expected": width, "found": len(values)},
                )
                continue
            try:
                yield parse_row(dict(zip(columns, values, strict=True)), catalog=catalog, line=line)
            except RowInvalid as invalid:
                counts.invalid += 1
                on_problem(line, str(invalid))
    except UnclosedQuote as exc:
        raise ImportFileError(
            _('Line %(line)d opens a quote (") that is never closed.') % {"line": exc.line}
        ) from exc
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not a valid CSV (line %(line)d: %(error)s).")
            % {"line": line + 1, "error": exc}
        ) from exc


def _refresh_statistics() -> None:
    """After a big load, tell PostgreSQL how the tables look now, so lookups use the indexes.

    Autovacuum would get there too, but only later; checks run right after an import.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Company, Subscription)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
