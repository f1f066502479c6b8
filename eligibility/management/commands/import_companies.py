"""`manage.py import_companies FILE`: load the company registry from a CSV file."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eligibility.importer import DEFAULT_CHUNK_SIZE, ImportCounts, ImportFileError, import_companies
from eligibility.registry_rows import COLUMNS


class Command(BaseCommand):
    help = (
        f"Create or update companies from a CSV file with the header {','.join(COLUMNS)} "
        "(UTF-8 or Windows-1252; comma, semicolon or tab). "
        "products holds |-separated product codes; paid_by is client or a partner's name. "
        "Safe to re-run: existing companies are updated, never duplicated."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="validate and count what would change, without writing anything",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"rows per batch (default {DEFAULT_CHUNK_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be a positive whole number.")
        path = options["file"]

        def report(line: int, message: str) -> None:
            self.stderr.write(f"line {line}: {message}")

        try:
            with open(path, "rb") as stream:
                counts = import_companies(
                    stream=stream,
                    on_problem=report,
                    dry_run=options["dry_run"],
                    chunk_size=options["chunk_size"],
                )
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except IsADirectoryError as exc:
            raise CommandError(f"{path} is a directory, not a CSV file.") from exc
        except PermissionError as exc:
            raise CommandError(f"Cannot read {path}: permission denied.") from exc
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from exc
        self.stdout.write(self._summary(counts, dry_run=options["dry_run"]))
        if counts.invalid:
            # A non-zero exit lets a scheduled import flag the file; the valid rows are loaded.
            raise CommandError(
                f"{counts.invalid} invalid rows were skipped (listed above); "
                f"the {counts.loaded} valid rows were "
                f"{'checked' if options['dry_run'] else 'loaded'}."
            )

    @staticmethod
    def _summary(counts: ImportCounts, *, dry_run: bool) -> str:
        prefix = "Dry run, nothing written. Would have: " if dry_run else ""
        return (
            f"{prefix}{counts.rows} rows: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged, {counts.invalid} invalid, "
            f"{counts.duplicates} repeated lines. Subscriptions: "
            f"{counts.subscriptions_created} created, {counts.subscriptions_updated} updated, "
            f"{counts.subscriptions_deleted} removed."
        )
