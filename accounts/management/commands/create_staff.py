from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.roles import ROLE_OPTIONS
from accounts.staff import create_staff


class Command(BaseCommand):
    help = (
        "Create a staff user in a role and e-mail a link to choose a password; "
        "for an existing staff user, add the role."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", required=True, help="|".join(ROLE_OPTIONS))
        parser.add_argument("--name", default="", help="the staff member's full name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = create_staff(
                email=options["email"], role=options["role"], full_name=options["name"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user, role = outcome.user, ROLE_OPTIONS[options["role"].strip().lower()]
        if outcome.created:
            self.stdout.write(
                f"Created staff user {user.email} ({role}); "
                "a link to choose a password was e-mailed."
            )
        elif outcome.role_added:
            self.stdout.write(f"{user.email} now also has the role {role}.")
        else:
            self.stdout.write(f"{user.email} already has the role {role}; nothing changed.")
