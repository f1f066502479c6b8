from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo


def _app_seeders():
    """Each app seeds its own demo data; later apps may build on earlier ones."""
    seeders = [accounts_demo.seed]
    for module in ("eligibility.demo", "requests_app.demo"):
        try:
            imported = __import__(module, fromlist=["seed"])
        except ModuleNotFoundError:
            continue
        seeders.append(imported.seed)
    return seeders


class Command(BaseCommand):
    help = "Load demo products, partners, users and companies (safe to re-run)."

    def handle(self, *args, **options):
        lines: list[tuple[str, str]] = []
        with transaction.atomic():
            for seed in _app_seeders():
                lines.extend(seed() or [])
        self.stdout.write("Demo data ready. Sign in at http://127.0.0.1:8000/accounts/login/")
        for who, how in lines:
            self.stdout.write(f"  {who}: {how}")
