"""The registry import through the ORM: the portable path, for SQLite (quickstart and tests).

The same steps as on PostgreSQL (eligibility.sql.registry), with the same counts: the valid
rows are gathered by company (a later line of the same company wins and the earlier one is
reported), then written in batches with a fixed number of queries each, then the companies
missing from the file are dealt with. Holding every company of the file in memory is what
makes this path simple; it is meant for files of a few thousand rows. PostgreSQL keeps memory
flat whatever the file's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from eligibility.importer_types import ImportCounts, PhaseCallback, ProblemCallback
from eligibility.models import Company, Subscription
from eligibility.registry_rows import CompanyRow, subscription_business_model
from eligibility.taxid import company_root

# Rows per INSERT: few round trips, statements of a reasonable size.
_INSERT_BATCH = 2_500
_UPDATE_BATCH = 500

# product id → (subscription id, paid by partner id, business model)
Holdings = dict[int, tuple[int, int | None, str]]


def duplicate_message(first_line: int) -> str:
    return _("Same company as line %(line)d; this later line wins.") % {"line": first_line}


@dataclass
class _ExistingCompany:
    company: Company
    subscriptions: Holdings = field(default_factory=dict)


def _fetch_existing(rows: Iterable[CompanyRow]) -> dict[tuple[str, str], _ExistingCompany]:
    """Two queries: the batch's companies that exist, then their subscriptions."""
    by_country: dict[str, tuple[set[str], set[str]]] = {}
    for row in rows:
        tax_ids, roots = by_country.setdefault(row.country, (set(), set()))
        tax_ids.add(row.tax_id)
        roots.add(company_root(row.country, row.tax_id))
    if not by_country:
        return {}
    condition = Q()
    for country, (tax_ids, roots) in by_country.items():
        # The roots are redundant for the answer but keep the lookup on an index.
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


@dataclass
class _SubscriptionChanges:
    create: list[tuple[CompanyRow, Company, int]] = field(default_factory=list)
    update: list[Subscription] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)

    def plan(self, row: CompanyRow, company: Company, current: Holdings) -> bool:
        """Add what makes the company's subscriptions match the row; True if anything does."""
        before = len(self.create) + len(self.update) + len(self.delete)
        for product_id, (pk, paid_by, model) in current.items():
            if product_id not in row.product_ids:
                self.delete.append(pk)
                continue
            wanted_model = subscription_business_model(row.paid_by_partner_id, model)
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

    def apply(self, now: datetime) -> None:
        if self.delete:
            Subscription.objects.filter(pk__in=self.delete).delete()
        if self.update:
            Subscription.objects.bulk_update(
                self.update, ["paid_by_partner_id", "business_model"], batch_size=_UPDATE_BATCH
            )
        if self.create:
            Subscription.objects.bulk_create(
                [
                    Subscription(
                        company_id=company.pk,
                        product_id=product_id,
                        paid_by_partner_id=row.paid_by_partner_id,
                        business_model=subscription_business_model(row.paid_by_partner_id, ""),
                        created_at=now,
                    )
                    for row, company, product_id in self.create
                ],
                batch_size=_INSERT_BATCH,
            )


def save_rows(
    rows: list[CompanyRow], *, counts: ImportCounts, now: datetime, dry_run: bool = False
) -> None:
    """Upsert one batch of validated rows (unique keys) with a fixed number of queries.

    Each company ends up with exactly the row's products, paid as the row says; subscriptions
    that the row no longer lists are removed.
    """
    existing = _fetch_existing(rows)
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
                created_at=now,
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
            changed_companies, ["legal_name", "status", "updated_at"], batch_size=_UPDATE_BATCH
        )
    subscriptions.apply(now)


class OrmRegistryLoad:
    """Stage the file's valid rows in memory, then write them through the ORM."""

    def __init__(
        self,
        *,
        counts: ImportCounts,
        on_problem: ProblemCallback,
        on_phase: PhaseCallback,
        now: datetime,
        chunk_size: int,
    ) -> None:
        self.counts = counts
        self.on_problem = on_problem
        self.on_phase = on_phase
        self.now = now
        self.chunk_size = chunk_size
        self.rows: dict[tuple[str, str], CompanyRow] = {}

    def stage(self, rows: Iterable[CompanyRow]) -> None:
        staged = self.rows
        for row in rows:
            earlier = staged.pop(row.key, None)  # popped: the later line takes the file order
            if earlier is not None:
                self.counts.duplicates += 1
                self.on_problem(row.line, duplicate_message(earlier.line))
            staged[row.key] = row

    def apply(self, *, dry_run: bool, delete_missing: bool) -> None:
        values = iter(self.rows.values())
        while chunk := list(itertools.islice(values, self.chunk_size)):
            self.on_phase("companies")
            save_rows(chunk, counts=self.counts, now=self.now, dry_run=dry_run)
        if delete_missing:
            self.on_phase("missing")
            self._mark_missing(dry_run=dry_run)

    def _mark_missing(self, *, dry_run: bool) -> None:
        """Companies absent from the file stop being clients (see importer.import_companies)."""
        holders = (
            Company.objects.filter(
                Q(status=Company.Status.CLIENT) | Q(pk__in=Subscription.objects.values("company"))
            )
            .order_by()
            .values_list("pk", "country", "tax_id")
        )
        gone = [
            pk for pk, country, tax_id in holders.iterator() if (country, tax_id) not in self.rows
        ]
        self.counts.no_longer_clients = len(gone)
        for start in range(0, len(gone), _UPDATE_BATCH):
            batch = gone[start : start + _UPDATE_BATCH]
            subscriptions = Subscription.objects.filter(company_id__in=batch)
            if dry_run:
                self.counts.subscriptions_deleted += subscriptions.count()
                continue
            self.counts.subscriptions_deleted += subscriptions.delete()[0]
            Company.objects.filter(pk__in=batch, status=Company.Status.CLIENT).update(
                status=Company.Status.PROSPECT, updated_at=self.now
            )
