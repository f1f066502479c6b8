"""Loading the company registry from CSV: the rules shared by `import_companies` and the admin.

A file has the columns `country,tax_id,legal_name,status,products,paid_by`. Each row describes a
company as it is now: its status, the products it has (`|`-separated codes) and who pays for
them (`client`, or a partner's name). Rows are validated one by one and upserted in batches;
invalid rows are reported with their line numbers and the valid ones are still loaded.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessModel, Partner
from eligibility.models import Company, Product, Subscription
from eligibility.taxid import company_root, validate_tax_id

COLUMNS = ("country", "tax_id", "legal_name", "status", "products", "paid_by")
PAID_BY_CLIENT = "client"
PRODUCT_SEPARATOR = "|"
DEFAULT_CHUNK_SIZE = 5_000
LEGAL_NAME_MAX_LENGTH = Company._meta.get_field("legal_name").max_length
# A registry line is short; anything bigger is not a company row (and would bloat memory).
MAX_FIELD_BYTES = 64 * 1024
_SNIFF_BYTES = 64 * 1024
_STATUSES = frozenset(Company.Status.values)
# Rows per INSERT: few round trips, statements of a reasonable size.
_INSERT_BATCH = 2_500
_ANALYZE_AFTER_ROWS = 10_000


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is written)."""

    @staticmethod
    def missing_columns_message(missing: list[str]) -> str:
        return _("The header misses the columns %(missing)s; expected %(expected)s.") % {
            "missing": ", ".join(missing),
            "expected": ",".join(COLUMNS),
        }


class RowInvalid(Exception):
    """One row breaks a rule; `errors` maps a column to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(" ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


@dataclass(frozen=True)
class CompanyRow:
    """A validated row: what the registry must say about one company."""

    line: int
    country: str
    tax_id: str  # compact
    legal_name: str
    status: str
    product_ids: frozenset[int]
    paid_by_partner_id: int | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.country, self.tax_id)


@dataclass
class Catalog:
    """Product codes and partner names a file may mention, loaded once per import."""

    product_ids: dict[str, int]
    partner_ids: dict[str, int]

    @classmethod
    def load(cls) -> Catalog:
        return cls(
            product_ids={
                code.casefold(): pk for pk, code in Product.objects.values_list("pk", "code")
            },
            partner_ids={
                name.casefold(): pk for pk, name in Partner.objects.values_list("pk", "name")
            },
        )


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


def parse_row(row: Mapping[str, str | None], *, catalog: Catalog, line: int) -> CompanyRow:
    """Validate one row (values as read from the file); raise RowInvalid with every problem."""
    errors: dict[str, list[str]] = {}
    if any("\x00" in (text or "") for text in row.values()):
        # Text columns cannot hold NUL characters; they only come from binary data.
        raise RowInvalid({"row": [_("The row holds binary data (a NUL character).")]})

    def value(column: str) -> str:
        return (row.get(column) or "").strip()

    validation = validate_tax_id(value("country"), value("tax_id"))
    if not validation.is_valid:
        column = "country" if validation.reason_code == "unsupported_country" else "tax_id"
        errors.setdefault(column, []).append(validation.message)

    legal_name = value("legal_name")
    if len(legal_name) > LEGAL_NAME_MAX_LENGTH:
        errors.setdefault("legal_name", []).append(
            _("The legal name is longer than %(max)d characters.") % {"max": LEGAL_NAME_MAX_LENGTH}
        )

    status = value("status").lower()
    if status not in _STATUSES:
        errors.setdefault("status", []).append(
            _("Unknown status “%(status)s”: use prospect, client or blocked.")
            % {"status": value("status")[:40]}
        )

    codes = [code.strip() for code in value("products").split(PRODUCT_SEPARATOR) if code.strip()]
    unknown = [code for code in codes if code.casefold() not in catalog.product_ids]
    if unknown:
        errors.setdefault("products", []).append(
            _("Unknown product codes: %(codes)s.")
            % {"codes": ", ".join(c[:50] for c in unknown[:5]) + (", …" if unknown[5:] else "")}
        )
    product_ids = frozenset(
        catalog.product_ids[code.casefold()] for code in codes if code not in unknown
    )

    paid_by = value("paid_by")
    paid_by_partner_id = None
    if paid_by and paid_by.casefold() != PAID_BY_CLIENT:
        paid_by_partner_id = catalog.partner_ids.get(paid_by.casefold())
        if paid_by_partner_id is None:
            errors.setdefault("paid_by", []).append(
                _("Unknown partner “%(name)s” in paid_by: use client or a partner's name.")
                % {"name": paid_by[:100]}
            )
    elif not paid_by and codes:
        errors.setdefault("paid_by", []).append(
            _("Say who pays for the products: client or a partner's name.")
        )

    if errors:
        raise RowInvalid(errors)
    return CompanyRow(
        line=line,
        country=validation.country,
        tax_id=validation.compact,
        legal_name=legal_name,
        status=status,
        product_ids=product_ids,
        paid_by_partner_id=paid_by_partner_id,
    )


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


def _open_text(stream: IO[bytes]) -> tuple[io.TextIOWrapper, str]:
    """Check the start of the file and return it as text, with its delimiter."""
    head = stream.read(_SNIFF_BYTES)
    if not head.strip():
        raise ImportFileError(_("The file is empty."))
    if b"\x00" in head:
        raise ImportFileError(_("This is not a CSV file (it holds binary data)."))
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        header_line = text.readline()
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is not UTF-8 text (line 1).")) from exc
    # Spreadsheets in many locales write `;`; the header tells which one the file uses.
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    text.seek(0)
    return text, delimiter


def _read_header(reader: Iterator[list[str]]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ImportFileError(_("The file is empty.")) from exc
    columns = [name.strip().lower() for name in header]
    missing = [name for name in COLUMNS if name not in columns]
    if missing:
        raise ImportFileError(ImportFileError.missing_columns_message(missing))
    return columns


def iter_rows(
    text: io.TextIOWrapper, delimiter: str
) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    """Yield (line number, row or None, problem) for each non-blank record after the header."""
    reader = csv.reader(text, delimiter=delimiter)
    try:
        columns = _read_header(reader)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(columns):
                yield (
                    line,
                    None,
                    _("Expected %(expected)d values, found %(found)d.")
                    % {"expected": len(columns), "found": len(values)},
                )
                continue
            yield line, dict(zip(columns, values, strict=True)), ""
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is not UTF-8 text (after line %(line)d).") % {"line": reader.line_num}
        ) from exc
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not a valid CSV (line %(line)d: %(error)s).")
            % {"line": reader.line_num, "error": exc}
        ) from exc


def import_companies(
    *,
    stream: IO[bytes],
    on_problem: Callable[[int, str], None],
    dry_run: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ImportCounts:
    """Load a registry CSV (a binary stream) in batches; all or nothing for the file's writes.

    Row problems go to `on_problem(line, message)` as they are found, so memory stays flat
    whatever the file's size. File-level problems (not a CSV, not UTF-8, missing columns)
    raise ImportFileError and leave the registry untouched.
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
    rows: Iterator[tuple[int, dict[str, str] | None, str]],
    *,
    catalog: Catalog,
    counts: ImportCounts,
    on_problem: Callable[[int, str], None],
    dry_run: bool,
    chunk_size: int,
) -> None:
    with transaction.atomic():
        while True:
            chunk = list(itertools.islice(rows, chunk_size))
            if not chunk:
                break
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
            save_rows(list(valid.values()), counts=counts, dry_run=dry_run)
