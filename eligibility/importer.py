"""Loading the company registry from CSV with `import_companies`: read, validate, upsert.

A file has the columns `country,tax_id,legal_name,status,products,paid_by` (eligibility.
registry_rows holds the row rules, shared with the admin's import). It is read by the one CSV
reader (core.csvfiles): UTF-8 with or without a BOM or Windows-1252, `,` `;` or tab. Each row
describes a company as it is now: its status, the products it has (`|`-separated codes) and who
pays for them (`client`, or a partner's name). Rows are validated one by one and upserted in
batches; invalid rows are reported with their line numbers and the valid ones are still loaded.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessModel
from core.csvfiles import (
    CsvRejected,
    UnclosedQuote,
    detect_layout,
    normalise_column,
    read_rows,
    text_stream,
)
from eligibility.models import Company, Subscription
from eligibility.registry_rows import (
    COLUMNS,
    Catalog,
    CompanyRow,
    RowInvalid,
    missing_columns_message,
    parse_row,
)
from eligibility.taxid import company_root

DEFAULT_CHUNK_SIZE = 5_000
# A registry line is short; anything bigger is not a company row (and would bloat memory).
MAX_FIELD_BYTES = 64 * 1024
# Rows per INSERT: few round trips, statements of a reasonable size.
_INSERT_BATCH = 2_500
_ANALYZE_AFTER_ROWS = 10_000

# (line, the row's values by column or None, what is wrong with it)
RawRow = tuple[int, dict[str, str] | None, str]


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is written)."""


@dataclass
class ImportCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    duplicates: int = 0
    subscriptions_created: int = 0
    subscriptions_updated: int = 0
    subscriptions_deleted: int = 0

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _ExistingCompany:
    company: Company
    # product id → (subscription id, paid by partner id, business model)
    subscriptions: dict[int, tuple[int, int | None, str]] = field(default_factory=dict)


def _fetch_existing(rows: Iterable[CompanyRow]) -> dict[tuple[str, str], _ExistingCompany]:
    """Two queries: the chunk's companies that exist, then their subscriptions."""
    by_country: dict[str, tuple[set[str], set[str]]] = {}
    for row in rows:
        tax_ids, roots = by_country.setdefault(row.country, (set(), set()))
        tax_ids.add(row.tax_id)
        roots.add(company_root(row.country, row.tax_id))
    if not by_country:
        return {}
    condition = Q()
    for country, (tax_ids, roots) in by_country.items():
        # The roots are redundant for the answer but keep the lookup on an index whatever the
        # planner believes: right after a big load, before statistics are refreshed, a bare
        # `country = …` condition can send it scanning every company of the country.
        condition |= Q(country=country, tax_id__in=tax_ids, root__in=roots)
    existing = {
        (c.country, c.tax_id): _ExistingCompany(c)
        for c in Company.objects.filter(condition)
        .order_by()
        .only("pk", "country", "tax_id", "root", "legal_name", "status")
    }
    by_pk = {entry.company.pk: entry for entry in existing.values()}
    if by_pk:
        subscriptions = Subscription.objects.filter(company_id__in=by_pk).values_list(
            "pk", "company_id", "product_id", "paid_by_partner_id", "business_model"
        )
        for pk, company_id, product_id, paid_by_partner_id, business_model in subscriptions:
            by_pk[company_id].subscriptions[product_id] = (pk, paid_by_partner_id, business_model)
    return existing


def _business_model(paid_by_partner_id: int | None, current: str) -> str:
    # A partner that pays is reselling; when the client pays, a referral stays a referral.
    if paid_by_partner_id is not None:
        return BusinessModel.RESELLER
    return current if current == BusinessModel.REFERRAL else ""


@dataclass
class _SubscriptionChanges:
    create: list[tuple[CompanyRow, Company, int]] = field(default_factory=list)
    update: list[Subscription] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)

    def plan(
        self,
        row: CompanyRow,
        company: Company,
        current: dict[int, tuple[int, int | None, str]],
    ) -> bool:
        """Add what makes the company's subscriptions match the row; True if anything does."""
        before = len(self.create) + len(self.update) + len(self.delete)
        for product_id, (pk, paid_by, model) in current.items():
            if product_id not in row.product_ids:
                self.delete.append(pk)
                continue
            wanted_model = _business_model(row.paid_by_partner_id, model)
            if paid_by != row.paid_by_partner_id or model != wanted_model:
                self.update.append(
                    Subscription(
                        pk=pk,
                        paid_by_partner_id=row.paid_by_partner_id,
                        business_model=wanted_model,
                    )
                )
        self.create.extend(
            (row, company, product_id) for product_id in row.product_ids - current.keys()
        )
        return len(self.create) + len(self.update) + len(self.delete) > before

    def count(self, counts: ImportCounts) -> None:
        counts.subscriptions_created += len(self.create)
        counts.subscriptions_updated += len(self.update)
        counts.subscriptions_deleted += len(self.delete)

    def apply(self) -> None:
        if self.delete:
            Subscription.objects.filter(pk__in=self.delete).delete()
        if self.update:
            Subscription.objects.bulk_update(
                self.update, ["paid_by_partner_id", "business_model"], batch_size=500
            )
        if self.create:
            now = timezone.now()
            Subscription.objects.bulk_create(
                [
                    Subscription(
                        company_id=company.pk,
                        product_id=product_id,
                        paid_by_partner_id=row.paid_by_partner_id,
                        business_model=_business_model(row.paid_by_partner_id, ""),
                        created_at=now,
                    )
                    for row, company, product_id in self.create
                ],
                batch_size=_INSERT_BATCH,
            )


def save_rows(rows: list[CompanyRow], *, counts: ImportCounts, dry_run: bool = False) -> None:
    """Upsert one batch of validated rows (unique keys) with a fixed number of queries.

    Each company ends up with exactly the row's products, paid as the row says; subscriptions
    that the row no longer lists are removed.
    """
    existing = _fetch_existing(rows)
    now = timezone.now()
    new_companies: list[Company] = []
    changed_companies: list[Company] = []
    subscriptions = _SubscriptionChanges()

    for row in rows:
        entry = existing.get(row.key)
        if entry is None:
            company = Company(
                country=row.country,
                tax_id=row.tax_id,
                root=company_root(row.country, row.tax_id),
                legal_name=row.legal_name,
                status=row.status,
            )
            new_companies.append(company)
            subscriptions.plan(row, company, {})
            counts.created += 1
            continue
        company = entry.company
        changed = company.legal_name != row.legal_name or company.status != row.status
        if changed:
            company.legal_name, company.status = row.legal_name, row.status
            company.updated_at = now
            changed_companies.append(company)
        changed = subscriptions.plan(row, company, entry.subscriptions) or changed
        if changed:
            counts.updated += 1
        else:
            counts.unchanged += 1

    subscriptions.count(counts)
    if dry_run:
        return
    # New companies get their primary keys here, before their subscriptions are written.
    Company.objects.bulk_create(new_companies, batch_size=_INSERT_BATCH)
    if changed_companies:
        Company.objects.bulk_update(
            changed_companies, ["legal_name", "status", "updated_at"], batch_size=500
        )
    subscriptions.apply()


def save_subscriptions(pairs: list[tuple[Company, CompanyRow]]) -> None:
    """Make saved companies' subscriptions match their rows (the admin's import, row by row)."""
    current: dict[int, dict[int, tuple[int, int | None, str]]] = {c.pk: {} for c, _row in pairs}
    subscriptions = Subscription.objects.filter(company_id__in=current).values_list(
        "pk", "company_id", "product_id", "paid_by_partner_id", "business_model"
    )
    for pk, company_id, product_id, paid_by_partner_id, business_model in subscriptions:
        current[company_id][product_id] = (pk, paid_by_partner_id, business_model)
    changes = _SubscriptionChanges()
    for company, row in pairs:
        changes.plan(row, company, current[company.pk])
    changes.apply()


def _open_text(stream: BinaryIO) -> tuple[io.TextIOWrapper, str]:
    """Recognise the file (encoding, delimiter) and return it as text, with its delimiter."""
    try:
        layout = detect_layout(stream)
    except CsvRejected as rejected:
        raise ImportFileError(rejected.message) from rejected
    return text_stream(stream, layout.encoding), layout.delimiter


def iter_rows(text: io.TextIOWrapper, delimiter: str) -> Iterator[RawRow]:
    """Yield (line number, row or None, problem) for each non-blank record after the header."""
    line = 0
    try:
        header, rows = read_rows(text, delimiter)
        if not header:
            raise ImportFileError(_("The file is empty."))
        columns = [normalise_column(name) for name in header]
        missing = [name for name in COLUMNS if name not in columns]
        if missing:
            raise ImportFileError(missing_columns_message(missing))
        for line, values in rows:
            if len(values) != len(columns):
                problem = _("Expected %(expected)d values, found %(found)d.") % {
                    "expected": len(columns),
                    "found": len(values),
                }
                yield line, None, problem
                continue
            yield line, dict(zip(columns, values, strict=True)), ""
    except UnclosedQuote as exc:
        raise ImportFileError(
            _('Line %(line)d opens a quote (") that is never closed.') % {"line": exc.line}
        ) from exc
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not a valid CSV (line %(line)d: %(error)s).")
            % {"line": line + 1, "error": exc}
        ) from exc


def import_companies(
    *,
    stream: BinaryIO,
    on_problem: Callable[[int, str], None],
    dry_run: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ImportCounts:
    """Load a registry CSV (a binary stream) in batches; all or nothing for the file's writes.

    Row problems go to `on_problem(line, message)` as they are found, so memory stays flat
    whatever the file's size. File-level problems (not a CSV, not UTF-8, missing columns)
    raise ImportFileError and leave the registry untouched. The stream must be seekable: it is
    read once to prove its encoding, then again for the rows.
    """
    counts = ImportCounts()
    catalog = Catalog.load()
    text, delimiter = _open_text(stream)
    previous_limit = csv.field_size_limit(MAX_FIELD_BYTES)
    rows = iter_rows(text, delimiter)
    try:
        _import_chunks(
            rows,
            catalog=catalog,
            counts=counts,
            on_problem=on_problem,
            dry_run=dry_run,
            chunk_size=chunk_size,
        )
    finally:
        csv.field_size_limit(previous_limit)
        text.detach()
    if not dry_run and counts.created + counts.subscriptions_created >= _ANALYZE_AFTER_ROWS:
        _refresh_statistics()
    return counts


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


def _import_chunks(
    rows: Iterator[RawRow],
    *,
    catalog: Catalog,
    counts: ImportCounts,
    on_problem: Callable[[int, str], None],
    dry_run: bool,
    chunk_size: int,
) -> None:
    with transaction.atomic():
        while chunk := list(itertools.islice(rows, chunk_size)):
            valid = _valid_rows(chunk, catalog=catalog, counts=counts, on_problem=on_problem)
            save_rows(list(valid.values()), counts=counts, dry_run=dry_run)


def _valid_rows(
    chunk: list[RawRow],
    *,
    catalog: Catalog,
    counts: ImportCounts,
    on_problem: Callable[[int, str], None],
) -> dict[tuple[str, str], CompanyRow]:
    """The chunk's valid rows by company, in file order; the later of two lines wins."""
    valid: dict[tuple[str, str], CompanyRow] = {}
    for line, raw, problem in chunk:
        counts.rows += 1
        if raw is None:
            counts.invalid += 1
            on_problem(line, problem)
            continue
        try:
            row = parse_row(raw, catalog=catalog, line=line)
        except RowInvalid as invalid:
            counts.invalid += 1
            on_problem(line, str(invalid))
            continue
        if row.key in valid:
            counts.duplicates += 1
            on_problem(
                line,
                _("Same company as line %(line)d; this later line wins.")
                % {"line": valid[row.key].line},
            )
            del valid[row.key]  # keep file order: the later line is applied
        valid[row.key] = row
    return valid
