"""Celery tasks of the eligibility app.

The registry import task lives beside the job it runs (eligibility.import_jobs); it is
imported here so that Celery's autodiscovery of `tasks` modules registers it.
"""

from eligibility.import_jobs import run_registry_import_task

__all__ = ["run_registry_import_task"]
