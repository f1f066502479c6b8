"""`manage.py import_companies FILE`: load the company registry from a CSV file."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import DatabaseError

from eligibility.importer import DEFAULT_CHUNK_SIZE, import_companies
from eligibility.importer_types import ImportCounts, ImportFileError, Progress
from eligibility.registry_rows import COLUMNS

MISSING_MEANS = (
    "companies absent from the file stop being clients: status client becomes prospect "
    "(blocked stays blocked) and all their subscriptions are removed; none is deleted"
)
_PHASES = {
    "duplicates": "looking for companies on two lines",
    "companies": "writing the companies",
    "subscriptions": "writing the subscriptions",
    "removals": "removing the products rows no longer list",
    "missing": "dealing with the companies missing from the file",
}


class TerminalProgress:
    """Rows per second and time left on one line of a terminal; silent anywhere else."""

    def __init__(self, out: OutputWrapper, *, every: float = 0.5) -> None:
        self.out = out
        self.enabled = out.isatty()
        self.every = every
        self.started = time.monotonic()
        self.shown = 0.0
        self.width = 0

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if progress.phase == "reading" and now - self.shown < self.every:
            return
        self.shown = now
        self._show(self.describe(progress, elapsed=now - self.started))

    @staticmethod
    def describe(progress: Progress, *, elapsed: float) -> str:
        rate = progress.rows / elapsed if elapsed > 0 else 0.0
        if progress.phase != "reading":
            step = _PHASES.get(progress.phase, progress.phase)
            return f"{progress.rows:,} rows read ({rate:,.0f} rows/s); {step}…"
        fraction = progress.fraction
        if not progress.rows or fraction <= 0:
            return "reading the file…"
        left = elapsed * (1 - fraction) / fraction
        return (
            f"{progress.rows:,} rows read ({fraction:.0%}), {rate:,.0f} rows/s, "
            f"about {left:,.0f} s left to read"
        )

    def _show(self, text: str) -> None:
        self.out.write("\r" + text.ljust(self.width), ending="")
        self.out.flush()
        self.width = len(text)

    def close(self) -> None:
        if self.enabled and self.width:
            self.out.write("\r" + " " * self.width + "\r", ending="")
            self.out.flush()


class Command(BaseCommand):
    stealth_options = ("stdin",)  # where the confirmation is read (tests pass their own)
    help = (
        f"Create or update companies from a CSV file with the header {','.join(COLUMNS)} "
        "(UTF-8 or Windows-1252; comma, semicolon or tab). "
        "products holds |-separated product codes; paid_by is client or a partner's name. "
        "Safe to re-run: existing companies are updated, never duplicated. The whole file is "
        "one transaction: if the import fails or is interrupted, nothing is changed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="validate and count what would change, without writing anything",
        )
        parser.add_argument(
            "--delete-missing",
            action="store_true",
            help=f"the file is a full export: {MISSING_MEANS}",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="with --delete-missing: do not ask for a confirmation",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"rows per batch on databases without COPY (default {DEFAULT_CHUNK_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be a positive whole number.")
        if options["yes"] and not options["delete_missing"]:
            raise CommandError("--yes only confirms --delete-missing; nothing else asks.")
        path, dry_run = options["file"], options["dry_run"]
        if options["delete_missing"] and not dry_run and not options["yes"]:
            self._confirm_delete_missing(path, options.get("stdin") or sys.stdin)
        counts = self._import(path, options)
        self.stdout.write(self._summary(counts, dry_run=dry_run))
        if counts.missing_left_alone:
            self.stderr.write(
                "--delete-missing was not applied, companies missing from the file were left "
                f"alone: {counts.missing_left_alone}"
            )
        if counts.invalid:
            # A non-zero exit lets a scheduled import flag the file; the valid rows are loaded.
            raise CommandError(
                f"{counts.invalid} invalid rows were skipped (listed above); "
                f"the {counts.loaded} valid rows were {'checked' if dry_run else 'loaded'}."
            )

    def _import(self, path: str, options: dict[str, Any]) -> ImportCounts:
        progress = TerminalProgress(self.stderr)

        def report(line: int, message: str) -> None:
            progress.close()
            self.stderr.write(f"line {line}: {message}")

        try:
            with open(path, "rb") as stream:
                return import_companies(
                    stream=stream,
                    on_problem=report,
                    dry_run=options["dry_run"],
                    delete_missing=options["delete_missing"],
                    chunk_size=options["chunk_size"],
                    on_progress=progress,
                )
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except IsADirectoryError as exc:
            raise CommandError(f"{path} is a directory, not a CSV file.") from exc
        except PermissionError as exc:
            raise CommandError(f"Cannot read {path}: permission denied.") from exc
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from exc
        except DatabaseError as exc:
            raise CommandError(
                f"The import failed and was rolled back; the registry is unchanged. ({exc})"
            ) from exc
        except KeyboardInterrupt as exc:
            raise CommandError(
                "Interrupted: the import was rolled back; the registry is unchanged."
            ) from exc
        finally:
            progress.close()

    def _confirm_delete_missing(self, path: str, stdin: TextIO) -> None:
        if not stdin.isatty():
            raise CommandError(
                "--delete-missing changes companies that are not in the file; confirm with "
                "--yes when no one can answer a question (try --dry-run first to see how many)."
            )
        self.stdout.write(f"With --delete-missing, {MISSING_MEANS}.")
        self.stdout.write(
            f"Is {path} a full export of the registry? Type 'yes' to go on: ", ending=""
        )
        self.stdout.flush()
        if stdin.readline().strip().lower() != "yes":
            raise CommandError("Not confirmed; nothing was imported.")

    @staticmethod
    def _summary(counts: ImportCounts, *, dry_run: bool) -> str:
        prefix = "Dry run, nothing written. Would have: " if dry_run else ""
        summary = (
            f"{prefix}{counts.rows} rows: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged, {counts.invalid} invalid, "
            f"{counts.duplicates} repeated lines. Subscriptions: "
            f"{counts.subscriptions_created} created, {counts.subscriptions_updated} updated, "
            f"{counts.subscriptions_deleted} removed."
        )
        if counts.no_longer_clients:
            summary += (
                f" Missing from the file: {counts.no_longer_clients} companies are no longer "
                "clients (clients became prospects; their subscriptions are counted as removed)."
            )
        return summary
