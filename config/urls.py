"""The project's URLs: each app mounts its own; the paths are the contract in DESIGN §8."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from core import views as core_views
from dashboard import views as dashboard_views

if settings.ADMIN_REQUIRE_OTP:
    # Staff must present a TOTP (or backup) code on the admin login form.
    admin.site.__class__ = OTPAdminSite
admin.site.site_header = _("Reseller Hub — staff")
admin.site.site_title = _("Reseller Hub staff")

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("support/", include("support.urls")),
    path("eligibility/bulk/", include("bulk.urls")),
    path("eligibility/", include("eligibility.urls")),
    path("requests/", include("requests_app.urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
