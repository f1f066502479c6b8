"""Benchmark `import_companies`: load N generated registry rows into the configured database.

    DATABASE_URL=postgres://user@host:5432/name python bench/import_companies.py --rows 1000000

The database is migrated first (a fresh, empty one is fine). The file mixes what a real
registry export holds: prospects, clients paying directly or through a partner (one to three
products each), blocked companies, formatted and compact CNPJs. The run prints:

- the floor, measured in the same run on the same file: a bare COPY of the file into a table
  of text columns plus building an index over the Tax IDs (PostgreSQL's share), and reading the
  file and validating its Tax IDs in Python (the share no import can skip);
- the first import (every company created), then with --rerun the same file again (nothing
  changes), each with its rows/s, this process's CPU time, and the ratio to the floor;
- the process's peak memory (max RSS) after each import, to show it flat in the file's size.

Run against a database of its own: it writes real rows (use --cleanup to delete them after).
The README's "Registry import" table records the figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
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

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from stdnum.br import cnpj  # noqa: E402

from accounts.models import Partner  # noqa: E402
from eligibility.importer import DEFAULT_CHUNK_SIZE, import_companies  # noqa: E402
from eligibility.models import Company, Product, Subscription  # noqa: E402
from eligibility.registry_rows import COLUMNS  # noqa: E402
from eligibility.taxid import validate_tax_id  # noqa: E402

PRODUCTS = ["wellhub-standard", "family-members", "wellhub-plus", "global-digital"]
PARTNER = "Bench Partner"
ROOT_OFFSET = 10_000_000  # generated CNPJ roots: 10000000, 10000001, …
NAME_PREFIX = "Bench company "  # how the benchmark recognises its own rows
FLOOR_TABLE = "bench_registry_copy_floor"


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


def copy_floor(path: Path) -> float:
    """A bare COPY of the file into a table of text columns, and an index over the Tax IDs."""
    columns = ", ".join(f"{name} text" for name in COLUMNS)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} ({columns})")
        copy_sql = f"COPY {FLOOR_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)"
        with cursor.cursor.copy(copy_sql) as copy, path.open("rb") as source:
            while block := source.read(1024 * 1024):
                copy.write(block)
        cursor.execute(f"CREATE INDEX {FLOOR_TABLE}_key ON {FLOOR_TABLE} (country, tax_id)")
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
    return elapsed


def validation_floor(path: Path) -> float:
    """Read the file as CSV and validate every Tax ID: what any import has to do in Python."""
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        for row in reader:
            validate_tax_id(row[0], row[1])
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def timed_import(path: Path, chunk_size: int, label: str, rows: int, floor: float) -> None:
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
        f"{label}: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s, "
        f"{elapsed / floor:.2f}x the floor ({cpu:.1f} s of this process's CPU); "
        f"peak memory {peak_rss_mb():.0f} MB "
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
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {companies}")
            cursor.execute(f"VACUUM ANALYZE {subscriptions}")


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
    call_command("migrate", verbosity=0, interactive=False)
    ensure_catalog()
    cleanup()  # the first import must create every row
    print(f"peak memory before importing: {peak_rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "companies.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        size = path.stat().st_size / 1_000_000
        print(
            f"generated {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        copying = copy_floor(path) if connection.vendor == "postgresql" else 0.0
        validating = validation_floor(path)
        floor = copying + validating
        print(
            f"floor: {floor:.1f} s = bare COPY and index {copying:.1f} s "
            f"+ reading and validating the Tax IDs {validating:.1f} s"
        )
        timed_import(path, args.chunk_size, "first import", args.rows, floor)
        if args.rerun:
            timed_import(path, args.chunk_size, "re-import (unchanged)", args.rows, floor)
    print(f"companies in the registry: {Company.objects.count():,}")
    if args.cleanup:
        cleanup()


if __name__ == "__main__":
    main()
