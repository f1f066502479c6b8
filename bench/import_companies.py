"""Benchmark `import_companies`: load N generated registry rows into the configured database.

    DATABASE_URL=postgres://user@host:5432/name python bench/import_companies.py --rows 200000

The file mixes what a real registry export holds: prospects, clients paying directly or through
a partner (one to three products each), blocked companies, formatted and compact CNPJs. The
first run creates every company; `--rerun` then loads the same file again (all unchanged) to
time the idempotent path. Prints rows/s, elapsed seconds and the importer's own CPU time
for each run (the machine's other load shows as the gap between the two).

Run against a database of its own: it writes real rows (use --cleanup to delete them after).

Recorded on a shared 2-core machine, PostgreSQL 15, one whole-file transaction, chunks of
5,000 (70% of the rows carry 1 to 3 subscriptions); other test runs were loading the machine:

    rows        first import                      re-import, all unchanged    max RSS
    200,000     23.8 s = 8,400 rows/s (17.8 s CPU)  12.4 s = 16,100 rows/s     -
    1,000,000   152.6 s = 6,550 rows/s (93.3 s CPU) 71.4 s = 14,000 rows/s     92 MB
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark is not a web server: give the settings what they demand when DEBUG is off.
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from stdnum.br import cnpj  # noqa: E402

from accounts.models import Partner  # noqa: E402
from eligibility.importer import DEFAULT_CHUNK_SIZE, import_companies  # noqa: E402
from eligibility.models import Company, Product, Subscription  # noqa: E402
from eligibility.registry_rows import COLUMNS  # noqa: E402

PRODUCTS = ["wellhub-standard", "family-members", "wellhub-plus", "global-digital"]
PARTNER = "Bench Partner"
ROOT_OFFSET = 10_000_000  # generated CNPJ roots: 10000000, 10000001, …
NAME_PREFIX = "Bench company "  # how the benchmark recognises its own rows


def generate(path: Path, rows: int) -> None:
    """Write the file in one pass (memory flat): valid CNPJs with unique roots."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(rows):
            base = f"{ROOT_OFFSET + i:08d}0001"
            number = base + cnpj.calc_check_digits(base)
            tax_id = cnpj.format(number) if i % 2 else number
            kind = i % 10
            if kind < 5:
                status, products, paid_by = "prospect", "", ""
            elif kind < 8:
                status, products, paid_by = "client", "|".join(PRODUCTS[: 1 + i % 3]), "client"
            elif kind < 9:
                status, products, paid_by = "client", PRODUCTS[0], PARTNER
            else:
                status, products, paid_by = "blocked", "", ""
            out.write(f"BR,{tax_id},{NAME_PREFIX}{i},{status},{products},{paid_by}\n")


def ensure_catalog() -> None:
    for code in PRODUCTS:
        Product.objects.get_or_create(code=code, defaults={"name": code.replace("-", " ").title()})
    Partner.objects.get_or_create(name=PARTNER)


def timed_import(path: Path, chunk_size: int, label: str, rows: int) -> None:
    problems = []
    started, cpu_started = time.perf_counter(), time.process_time()
    with path.open("rb") as stream:
        counts = import_companies(
            stream=stream,
            on_problem=lambda line, message: problems.append((line, message)),
            chunk_size=chunk_size,
        )
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(
        f"{label}: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
        f"({cpu:.1f} s of this process's CPU; the rest is the database and waiting) "
        f"(created {counts.created:,}, updated {counts.updated:,}, "
        f"unchanged {counts.unchanged:,}, invalid {counts.invalid:,}, "
        f"subscriptions created {counts.subscriptions_created:,})"
    )
    if problems:
        print(f"  unexpected problems, first: {problems[:3]}")


def cleanup() -> None:
    """Delete the rows a previous run generated (raw SQL: a million-row delete in seconds)."""
    companies = Company._meta.db_table
    subscriptions = Subscription._meta.db_table
    pattern = NAME_PREFIX + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {subscriptions} WHERE company_id IN "
            f"(SELECT id FROM {companies} WHERE legal_name LIKE %s)",
            [pattern],
        )
        cursor.execute(f"DELETE FROM {companies} WHERE legal_name LIKE %s", [pattern])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--rerun", action="store_true", help="import the same file twice")
    parser.add_argument(
        "--cleanup", action="store_true", help="delete the generated companies at the end"
    )
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    ensure_catalog()
    cleanup()  # the first import must create every row
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "companies.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        size = path.stat().st_size / 1_000_000
        print(
            f"generated {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        timed_import(path, args.chunk_size, "first import", args.rows)
        if args.rerun:
            timed_import(path, args.chunk_size, "re-import (unchanged)", args.rows)
    print(f"companies in the registry: {Company.objects.count():,}")
    if args.cleanup:
        cleanup()


if __name__ == "__main__":
    main()
