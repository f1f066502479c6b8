from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from eligibility import demo as eligibility_demo
from requests_app import demo as requests_demo

# Each app seeds its own demo data; later ones build on earlier ones.
SEEDERS = (accounts_demo.seed, eligibility_demo.seed, requests_demo.seed)


class Command(BaseCommand):
    help = "Load demo products, partners, users and companies (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        lines: list[tuple[str, str]] = []
        with transaction.atomic():
            for seed in SEEDERS:
                lines.extend(seed() or [])
        self.stdout.write("Demo data ready. Sign in at http://127.0.0.1:8000/accounts/login/")
        for who, how in lines:
            self.stdout.write(f"  {who}: {how}")
