from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Requests")

    def ready(self) -> None:
        # Eligibility decides who may launch a company but cannot import this app (it sits
        # below it): it reads the open launch requests through the reader registered here.
        # Imported here, not at the top, because an AppConfig module is loaded before the
        # models are ready (Django's rule for ready()), not to hide a circle.
        from eligibility.protections import register_protection_holders
        from requests_app.selectors import open_followups_by_company, open_launches_by_key

        register_protection_holders(open_launches_by_key, open_followups_by_company)
