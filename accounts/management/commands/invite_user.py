from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Partner
from accounts.services import invite_user


class Command(BaseCommand):
    help = "Create a partner user and send the welcome e-mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--partner", required=True, help="the partner's name")
        parser.add_argument("--name", default="", help="the user's full name")
        parser.add_argument("--login-mode", default="password", help="password or token")
        parser.add_argument(
            "--language",
            default="",
            help="pt-br, es or en (default: from the partner's home country)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        partner = Partner.objects.filter(name__iexact=options["partner"].strip()).first()
        if partner is None:
            raise CommandError(f"No partner named “{options['partner']}”.")
        try:
            user = invite_user(
                email=options["email"],
                partner=partner,
                full_name=options["name"],
                login_mode=options["login_mode"],
                language=options["language"].strip().lower(),
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Invited {user.email} to {partner.name} ({user.login_mode} login, "
            f"language {user.language}); "
            "welcome e-mail sent."
        )
