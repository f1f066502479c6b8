"""The registry import on PostgreSQL: COPY into a staging table, then set-based statements.

Why SQL by hand (`bench/import_companies.py`, 1,000,000 rows, figures in the README): the ORM
path (eligibility.registry_orm) spends its time building statements and objects — 100-152 s
for a first import, 71 s for a re-import that changes nothing. Here the valid rows are written
with COPY as the file is read (PostgreSQL takes them in on the other core while Python parses
the next ones), and every change is one statement over the whole file: 28-35 s for a first
import (most of it writing 1,000,000 companies and 700,000 subscriptions with their indexes
and foreign-key checks) and 17-24 s for a re-import, mostly reading the file in Python.

The steps, all in the caller's transaction:

1. `stage`: COPY the valid rows into a temporary table; a unique index over the Tax IDs proves
   that no company is on two lines (otherwise the later line is kept and the others reported).
2. `apply`: lock the registry's two tables against other writers (reads go on), then
   INSERT … ON CONFLICT DO UPDATE the companies that are new or changed, with the new
   companies' subscriptions; then the other subscriptions that are new or paid differently;
   then the removals (products a row no longer lists; with --delete-missing, every company
   absent from the file). Unchanged rows are filtered out by a join before the upsert, so a
   re-import locks and writes nothing.
3. A dry run runs the same selections as counts only.

The subscriptions' business model follows `registry_rows.subscription_business_model`,
written here as a CASE.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from accounts.models import BusinessModel
from eligibility.importer_types import ImportCounts, PhaseCallback, ProblemCallback
from eligibility.models import Company, Subscription
from eligibility.registry_orm import duplicate_message
from eligibility.registry_rows import CompanyRow
from eligibility.taxid import company_root

STAGING = "registry_import_rows"
CHANGED = "registry_import_changed"
# Rows of COPY text sent to the server at a time.
_COPY_BATCH = 2_000
_REPORT_BATCH = 2_000

_STAGING_TABLES = """
DROP TABLE IF EXISTS pg_temp.{T}, pg_temp.{changed};
CREATE TEMPORARY TABLE {T} (
    line integer NOT NULL,
    country varchar(2) NOT NULL,
    tax_id varchar(32) NOT NULL,
    root varchar(32) NOT NULL,
    legal_name varchar(255) NOT NULL,
    status varchar(16) NOT NULL,
    products integer[] NOT NULL,
    paid_by integer
) ON COMMIT DROP;
CREATE TEMPORARY TABLE {changed} (company_id integer NOT NULL) ON COMMIT DROP;
"""
_COPY = "COPY {T} (line, country, tax_id, root, legal_name, status, products, paid_by) FROM STDIN"
_UNIQUE_KEY = "CREATE UNIQUE INDEX {T}_key ON {T} (country, tax_id)"
_DUPLICATES = """
SELECT line, previous FROM (
    SELECT line, lag(line) OVER (PARTITION BY country, tax_id ORDER BY line) AS previous
    FROM {T}
) AS lines WHERE previous IS NOT NULL ORDER BY line
"""
_DROP_EARLIER_LINES = """
DELETE FROM {T} AS s USING {T} AS later
WHERE later.country = s.country AND later.tax_id = s.tax_id AND later.line > s.line
"""

# --- What changes (each selection serves the statement that applies it and the dry run) ----

# The file's companies that are new, or whose legal name or status changed.
_COMPANY_CHANGES = """
SELECT s.country, s.tax_id, s.root, s.legal_name, s.status
FROM {T} AS s
LEFT JOIN {C.table} AS old ON old.{C.country} = s.country AND old.{C.tax_id} = s.tax_id
WHERE old.{C.id} IS NULL OR old.{C.legal_name} <> s.legal_name OR old.{C.status} <> s.status
"""
# The subscriptions that the file's (existing) companies lack or hold on other terms.
_WANTED_SUBSCRIPTIONS = """
SELECT * FROM (
    SELECT c.{C.id} AS company_id, p.product_id, s.paid_by,
           cur.{S.id} AS current_id,
           cur.{S.paid_by_partner} AS current_paid_by,
           cur.{S.business_model} AS current_model,
           CASE WHEN s.paid_by IS NOT NULL THEN %(reseller)s
                WHEN cur.{S.business_model} = %(referral)s THEN %(referral)s
                ELSE '' END AS business_model
    FROM {T} AS s
    JOIN {C.table} AS c ON c.{C.country} = s.country AND c.{C.tax_id} = s.tax_id
    CROSS JOIN LATERAL unnest(s.products) AS p(product_id)
    LEFT JOIN {S.table} AS cur
        ON cur.{S.company} = c.{C.id} AND cur.{S.product} = p.product_id
) AS wanted
WHERE current_id IS NULL OR current_paid_by IS DISTINCT FROM paid_by
    OR current_model <> business_model
"""
# The subscriptions of the file's companies to products their row no longer lists.
_UNWANTED_SUBSCRIPTIONS = """
SELECT sub.{S.id} AS id, sub.{S.company} AS company_id
FROM {T} AS s
JOIN {C.table} AS c ON c.{C.country} = s.country AND c.{C.tax_id} = s.tax_id
JOIN {S.table} AS sub ON sub.{S.company} = c.{C.id}
WHERE sub.{S.product} <> ALL (s.products)
"""
# --delete-missing: companies absent from the file that are clients or hold subscriptions.
_MISSING_COMPANIES = """
SELECT c.{C.id} AS id FROM {C.table} AS c
WHERE (c.{C.status} = %(client)s
       OR EXISTS (SELECT 1 FROM {S.table} AS sub WHERE sub.{S.company} = c.{C.id}))
  AND NOT EXISTS (
      SELECT 1 FROM {T} AS s WHERE s.country = c.{C.country} AND s.tax_id = c.{C.tax_id})
"""

# --- Applying ----------------------------------------------------------------------------------

_LOCK = "LOCK TABLE {C.table}, {S.table} IN SHARE ROW EXCLUSIVE MODE"
_UPSERT_COMPANIES = """
WITH upserted AS (
    INSERT INTO {C.table} AS c ({C.country}, {C.tax_id}, {C.root}, {C.legal_name}, {C.status},
                                {C.created_at}, {C.updated_at})
    SELECT country, tax_id, root, legal_name, status, %(now)s, %(now)s
    FROM ({company_changes}) AS changes
    ON CONFLICT ({C.country}, {C.tax_id}) DO UPDATE
        SET {C.legal_name} = EXCLUDED.{C.legal_name}, {C.status} = EXCLUDED.{C.status},
            {C.updated_at} = EXCLUDED.{C.updated_at}
        WHERE (c.{C.legal_name}, c.{C.status})
            IS DISTINCT FROM (EXCLUDED.{C.legal_name}, EXCLUDED.{C.status})
    RETURNING c.{C.id} AS id, c.{C.country} AS country, c.{C.tax_id} AS tax_id,
              (c.xmax = 0) AS created
),
new_subscriptions AS (
    INSERT INTO {S.table} ({S.company}, {S.product}, {S.paid_by_partner}, {S.business_model},
                           {S.created_at})
    SELECT u.id, p.product_id, s.paid_by,
           CASE WHEN s.paid_by IS NULL THEN '' ELSE %(reseller)s END, %(now)s
    FROM upserted AS u
    JOIN {T} AS s ON s.country = u.country AND s.tax_id = u.tax_id
    CROSS JOIN LATERAL unnest(s.products) AS p(product_id)
    WHERE u.created
    RETURNING 1
),
changed AS (INSERT INTO {changed} (company_id) SELECT id FROM upserted WHERE NOT created)
SELECT (SELECT count(*) FROM upserted WHERE created),
       (SELECT count(*) FROM new_subscriptions)
"""
_UPSERT_SUBSCRIPTIONS = """
WITH upserted AS (
    INSERT INTO {S.table} AS sub ({S.company}, {S.product}, {S.paid_by_partner},
                                  {S.business_model}, {S.created_at})
    SELECT company_id, product_id, paid_by, business_model, %(now)s
    FROM ({wanted_subscriptions}) AS wanted
    ON CONFLICT ({S.company}, {S.product}) DO UPDATE
        SET {S.paid_by_partner} = EXCLUDED.{S.paid_by_partner},
            {S.business_model} = EXCLUDED.{S.business_model}
        WHERE (sub.{S.paid_by_partner}, sub.{S.business_model})
            IS DISTINCT FROM (EXCLUDED.{S.paid_by_partner}, EXCLUDED.{S.business_model})
    RETURNING sub.{S.company} AS company_id, (sub.xmax = 0) AS created
),
changed AS (INSERT INTO {changed} (company_id) SELECT company_id FROM upserted)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM upserted
"""
_REMOVE_SUBSCRIPTIONS = """
WITH removed AS (
    DELETE FROM {S.table} AS sub USING ({unwanted_subscriptions}) AS unwanted
    WHERE sub.{S.id} = unwanted.id
    RETURNING sub.{S.company} AS company_id
),
changed AS (INSERT INTO {changed} (company_id) SELECT company_id FROM removed)
SELECT count(*) FROM removed
"""
_MARK_MISSING = """
WITH gone AS ({missing_companies}),
removed AS (
    DELETE FROM {S.table} AS sub USING gone WHERE sub.{S.company} = gone.id RETURNING 1
),
demoted AS (
    UPDATE {C.table} AS c SET {C.status} = %(prospect)s, {C.updated_at} = %(now)s
    FROM gone WHERE c.{C.id} = gone.id AND c.{C.status} = %(client)s
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM removed)
"""
_UPDATED_COMPANIES = "SELECT count(DISTINCT company_id) FROM {changed}"

# --- Counting only (--dry-run) -------------------------------------------------------------

_COUNT_CHANGES = """
WITH companies AS (
    SELECT s.products, c.{C.id} AS company_id,
           (c.{C.legal_name} <> s.legal_name OR c.{C.status} <> s.status) AS changed
    FROM {T} AS s
    LEFT JOIN {C.table} AS c ON c.{C.country} = s.country AND c.{C.tax_id} = s.tax_id
),
wanted AS ({wanted_subscriptions}),
unwanted AS ({unwanted_subscriptions})
SELECT
    (SELECT count(*) FROM companies WHERE company_id IS NULL),
    (SELECT coalesce(sum(cardinality(products)), 0) FROM companies WHERE company_id IS NULL),
    (SELECT count(*) FROM wanted WHERE current_id IS NULL),
    (SELECT count(*) FROM wanted WHERE current_id IS NOT NULL),
    (SELECT count(*) FROM unwanted),
    (SELECT count(DISTINCT company_id) FROM (
        SELECT company_id FROM companies WHERE changed
        UNION ALL SELECT company_id FROM wanted
        UNION ALL SELECT company_id FROM unwanted) AS touched)
"""
_COUNT_MISSING = """
WITH gone AS ({missing_companies})
SELECT (SELECT count(*) FROM gone),
       (SELECT count(*) FROM {S.table} AS sub JOIN gone ON sub.{S.company} = gone.id)
"""


def _names(model: type[Model]) -> SimpleNamespace:
    """The model's quoted table (`table`) and columns (by field name) for the statements."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = {f.name: quote(str(f.column)) for f in meta.concrete_fields}
    return SimpleNamespace(table=quote(meta.db_table), **columns)


def _copy_line(row: CompanyRow) -> str:
    """The row as a line of COPY's text format (tab-separated, `\\N` for NULL)."""
    name = row.legal_name
    if "\\" in name or not name.isprintable():
        name = name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        name = name.replace("\r", "\\r")
    products = ",".join(map(str, sorted(row.product_ids)))
    paid_by = "\\N" if row.paid_by_partner_id is None else str(row.paid_by_partner_id)
    root = company_root(row.country, row.tax_id)
    return (
        f"{row.line}\t{row.country}\t{row.tax_id}\t{root}\t{name}\t{row.status}"
        f"\t{{{products}}}\t{paid_by}\n"
    )


class SqlRegistryLoad:
    """Stage the file's valid rows with COPY, then apply them with set-based statements."""

    def __init__(
        self,
        *,
        counts: ImportCounts,
        on_problem: ProblemCallback,
        on_phase: PhaseCallback,
        now: datetime,
    ) -> None:
        self.counts = counts
        self.on_problem = on_problem
        self.on_phase = on_phase
        self.loaded = 0
        self.params: dict[str, Any] = {
            "now": now,
            "reseller": BusinessModel.RESELLER.value,
            "referral": BusinessModel.REFERRAL.value,
            "client": Company.Status.CLIENT.value,
            "prospect": Company.Status.PROSPECT.value,
        }
        names: dict[str, Any] = {
            "C": _names(Company),
            "S": _names(Subscription),
            "T": STAGING,
            "changed": CHANGED,
        }
        parts = {
            "company_changes": _COMPANY_CHANGES,
            "wanted_subscriptions": _WANTED_SUBSCRIPTIONS,
            "unwanted_subscriptions": _UNWANTED_SUBSCRIPTIONS,
            "missing_companies": _MISSING_COMPANIES,
        }
        self.names = names | {name: part.format(**names) for name, part in parts.items()}

    def _sql(self, template: str) -> str:
        """The statement with the models' table and column names (and its selections)."""
        return template.format(**self.names)

    def _run(self, template: str) -> tuple[Any, ...]:
        with connection.cursor() as cursor:
            cursor.execute(self._sql(template), self.params)
            return tuple(cursor.fetchone() or ())

    # --- Staging -----------------------------------------------------------------------------

    def stage(self, rows: Iterable[CompanyRow]) -> None:
        self.on_phase("reading")
        staged = 0
        with connection.cursor() as cursor:
            cursor.execute(self._sql(_STAGING_TABLES))
            with cursor.cursor.copy(self._sql(_COPY)) as copy:
                lines: list[str] = []
                for row in rows:
                    lines.append(_copy_line(row))
                    if len(lines) == _COPY_BATCH:
                        copy.write("".join(lines))
                        staged += len(lines)
                        lines.clear()
                copy.write("".join(lines))
                staged += len(lines)
        self.on_phase("duplicates")
        self.loaded = staged - self._drop_duplicates()
        with connection.cursor() as cursor:
            # A temporary table is never analysed by autovacuum; the joins need its size.
            cursor.execute(self._sql("ANALYZE {T}"))

    def _drop_duplicates(self) -> int:
        """Keep the last line of each company; report the others. Returns how many went."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(self._sql(_UNIQUE_KEY))
            return 0  # no company on two lines: the usual case, proved by the index
        except IntegrityError:
            pass
        repeated = 0
        with connection.chunked_cursor() as cursor:
            cursor.execute(self._sql(_DUPLICATES))
            while batch := cursor.fetchmany(_REPORT_BATCH):
                for line, previous in batch:
                    self.on_problem(line, duplicate_message(previous))
                repeated += len(batch)
        self.counts.duplicates += repeated
        with connection.cursor() as cursor:
            cursor.execute(self._sql(_DROP_EARLIER_LINES))
            cursor.execute(self._sql(_UNIQUE_KEY))
        return repeated

    # --- Applying ----------------------------------------------------------------------------

    def apply(self, *, dry_run: bool, delete_missing: bool) -> None:
        if dry_run:
            self._count(delete_missing=delete_missing)
            return
        counts = self.counts
        with connection.cursor() as cursor:
            cursor.execute(self._sql(_LOCK))
        self.on_phase("companies")
        created, subscriptions_created = self._run(_UPSERT_COMPANIES)
        counts.created = created
        counts.subscriptions_created = subscriptions_created
        if self.loaded > created:  # companies that existed: their subscriptions may change
            self.on_phase("subscriptions")
            created, updated = self._run(_UPSERT_SUBSCRIPTIONS)
            counts.subscriptions_created += created
            counts.subscriptions_updated = updated
            self.on_phase("removals")
            (counts.subscriptions_deleted,) = self._run(_REMOVE_SUBSCRIPTIONS)
        (counts.updated,) = self._run(_UPDATED_COMPANIES)
        counts.unchanged = self.loaded - counts.created - counts.updated
        if delete_missing:
            self.on_phase("missing")
            gone, removed = self._run(_MARK_MISSING)
            counts.no_longer_clients = gone
            counts.subscriptions_deleted += removed

    def _count(self, *, delete_missing: bool) -> None:
        """What `apply` would do, counted by the same selections, writing nothing."""
        counts = self.counts
        self.on_phase("companies")
        (
            counts.created,
            new_companies_subscriptions,
            subscriptions_created,
            counts.subscriptions_updated,
            counts.subscriptions_deleted,
            counts.updated,
        ) = self._run(_COUNT_CHANGES)
        counts.subscriptions_created = new_companies_subscriptions + subscriptions_created
        counts.unchanged = self.loaded - counts.created - counts.updated
        if delete_missing:
            self.on_phase("missing")
            counts.no_longer_clients, removed = self._run(_COUNT_MISSING)
            counts.subscriptions_deleted += removed
