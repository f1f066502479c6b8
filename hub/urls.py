from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from hub import views

if settings.ADMIN_REQUIRE_OTP:
    # Staff must present a TOTP (or backup) code on the admin login form.
    admin.site.__class__ = OTPAdminSite
admin.site.site_header = _("Reseller Hub — staff")
admin.site.site_title = _("Reseller Hub staff")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("hub.support_urls")),
    path("eligibility/", include("eligibility.urls")),
    path("requests/", include("requests_app.urls")),
]

handler400 = "hub.views.bad_request"
handler403 = "hub.views.permission_denied"
handler404 = "hub.views.page_not_found"
handler500 = "hub.views.server_error"
