"""The admin app, with the hub's staff site (accounts.staff_admin.HubAdminSite) as admin.site."""

from django.apps import apps
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _

# Libraries' apps named as staff would name them (their own names read "Otp_Totp").
LIBRARY_APP_NAMES = {
    "account": _("Sign-in e-mail addresses"),
    "otp_totp": _("Second factor"),
    "otp_static": _("Second factor"),
    "auth": _("Staff roles"),
}


class HubAdminConfig(AdminConfig):
    default_site = "accounts.staff_admin.HubAdminSite"

    def ready(self) -> None:
        for label, name in LIBRARY_APP_NAMES.items():
            try:
                apps.get_app_config(label).verbose_name = name
            except LookupError:  # not installed
                continue
        super().ready()
