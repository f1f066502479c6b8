from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import create_partner


class Command(BaseCommand):
    help = "Create a Channel Partner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--tier", default="standard", help="standard or premium")
        parser.add_argument("--models", default="reseller", help="reseller,referral")
        parser.add_argument("--country", default="BR", help="home country, ISO alpha-2")
        parser.add_argument("--ae", default="", help="e-mail of the designated AE (staff)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner = create_partner(
                name=options["name"],
                tier=options["tier"],
                business_models=options["models"].split(","),
                home_country=options["country"],
                designated_ae_email=options["ae"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created partner {partner.name} ({partner.tier}, "
            f"{','.join(partner.business_models)}, {partner.home_country})."
        )
