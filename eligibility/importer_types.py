"""What the registry import reports: its counts, its problems and its progress.

Shared by the import service (eligibility.importer) and its two ways of writing, the ORM
(eligibility.registry_orm) and PostgreSQL's COPY (eligibility.sql.registry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# (line, message): an invalid or repeated line, reported as soon as it is known.
ProblemCallback = Callable[[int, str], None]
# The step of the import that starts now: "reading", "duplicates", "companies",
# "subscriptions", "removals", "missing".
PhaseCallback = Callable[[str], None]


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
    # --delete-missing: companies absent from the file that stopped being clients.
    no_longer_clients: int = 0
    # --delete-missing was asked for but not applied: why (empty when it was, or not asked).
    missing_left_alone: str = ""

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class Progress:
    """How far the import is: rows read so far and where it is in the file."""

    phase: str
    rows: int
    bytes_read: int
    total_bytes: int

    @property
    def fraction(self) -> float:
        """The part of the file read, from 0 to 1 (the reading is most of an import's time)."""
        if self.phase != "reading":
            return 1.0
        return min(1.0, self.bytes_read / self.total_bytes) if self.total_bytes else 0.0


ProgressCallback = Callable[[Progress], None]
