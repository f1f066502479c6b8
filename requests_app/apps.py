from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eligibility.protections import register_protection_holders


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Requests")

    def ready(self) -> None:
        # Eligibility decides who may launch a company but cannot import this app (it sits
        # below it): it reads the open requests through the readers named here.
        register_protection_holders(
            launches="requests_app.selectors.open_launches_by_key",
            followups="requests_app.selectors.open_followups_by_company",
        )
