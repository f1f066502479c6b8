from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import deactivate_inactive_users


class Command(BaseCommand):
    help = "Deactivate partner users who have not signed in for --days; warn those close to it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.INACTIVITY_DAYS)
        parser.add_argument("--dry-run", action="store_true", help="show, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = deactivate_inactive_users(days=options["days"], dry_run=options["dry_run"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        prefix = "Would deactivate" if options["dry_run"] else "Deactivated"
        for email in report.deactivated:
            self.stdout.write(f"{prefix}: {email}")
        warn_prefix = "Would warn" if options["dry_run"] else "Warned"
        for email in report.warned:
            self.stdout.write(f"{warn_prefix}: {email}")
        self.stdout.write(
            f"{prefix} {len(report.deactivated)} user(s); "
            f"{warn_prefix.lower()} {len(report.warned)} user(s)."
        )
