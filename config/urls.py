"""The project's URLs: each app mounts its own; the paths are the contract in DESIGN §8."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from core import views as core_views
from dashboard import views as dashboard_views

# admin.site is accounts.staff_admin.HubAdminSite (second factor, each role's home page).

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
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
