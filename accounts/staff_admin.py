"""The staff admin site: sign-in with a second factor, enrolment, and each role's home page.

- Sign-in (`/admin/login/`): accounts.staff_forms.StaffLoginForm — one answer for every
  failure, throttled like the partner sign-in.
- A staff member without a second factor who signs in with the right password is led to
  `/admin/second-factor/` to set up an authenticator app; until then the admin stays shut
  (`has_permission` wants a verified session whenever ADMIN_REQUIRE_OTP is on).
- The index is a short home page: each app registers its panels here (register_panel), and a
  member sees the panels their permissions allow, then the sections they may open, named as
  people name them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_otp
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.decorators import method_decorator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts import second_factor
from accounts.models import User
from accounts.staff_forms import ConfirmAppForm, StaffLoginForm

# --- The home page's panels -----------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """A count and a link on the staff home page, for members holding `permission`."""

    key: str
    title: Promise | str
    permission: str
    count: Callable[[User], int]
    url: Callable[[User], str]


_PANELS: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if all(existing.key != panel.key for existing in _PANELS):
        _PANELS.append(panel)


def panels_for(user: User) -> list[dict[str, Any]]:
    return [
        {"key": p.key, "title": p.title, "count": p.count(user), "url": p.url(user)}
        for p in _PANELS
        if user.has_perm(p.permission)
    ]


# --- Sections as people name them -----------------------------------------------------------

# Libraries' apps are renamed where the admin app starts (accounts.admin_config).
SECTION_NAMES: dict[str, Promise] = {
    "accounts": _("Partners and users"),
    "eligibility": _("Company registry"),
    "requests_app": _("Requests"),
    "bulk": _("Bulk checks"),
    "support": _("Problem reports"),
}
MODEL_NAMES: dict[str, Promise] = {
    "auth.group": _("Roles"),
    "account.emailaddress": _("E-mail addresses"),
    "otp_totp.totpdevice": _("Authenticator apps"),
    "otp_static.staticdevice": _("Backup codes"),
    "eligibility.eligibilitycheck": _("Check log"),
    "requests_app.partnerrequest": _("Requests"),
    "bulk.bulkcheckjob": _("Bulk check files"),
}
SECTION_ORDER = ["requests_app", "bulk", "accounts", "support", "eligibility", "auth", "otp_totp"]


def name_sections(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rename sections and models, and merge the two second-factor sections into one."""
    merged: dict[str, dict[str, Any]] = {}
    for app in app_list:
        label = app["app_label"]
        name = SECTION_NAMES.get(label)
        for model in app["models"]:
            key = f"{label}.{model['object_name'].lower()}"
            model["name"] = MODEL_NAMES.get(key, model["name"])
        target = "otp_totp" if label == "otp_static" else label
        if target in merged:
            merged[target]["models"].extend(app["models"])
            continue
        merged[target] = {**app, "name": name or app["name"]}
    order = {label: i for i, label in enumerate(SECTION_ORDER)}
    return sorted(merged.values(), key=lambda app: order.get(app["app_label"], len(order)))


# --- Actions refuse what the member may not do ----------------------------------------------


class PermittedActionsMixin:
    """An action the member may not use is neither shown nor run: posting it answers 403."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        action = request.POST.get("action", "") if request.method == "POST" else ""
        if action and action not in self.get_actions(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        response: HttpResponse = super().changelist_view(  # type: ignore[misc]
            request, extra_context
        )
        return response


# --- The site ------------------------------------------------------------------------------


def _staff_member(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_active and user.is_staff:
        return user
    return None


def needs_enrolment(request: HttpRequest) -> bool:
    user = _staff_member(request)
    return bool(settings.ADMIN_REQUIRE_OTP and user and not second_factor.is_enrolled(user))


class HubAdminSite(admin.AdminSite):
    site_header = _("Reseller Hub — staff")
    site_title = _("Reseller Hub staff")
    index_title = _("Your work")
    site_url = None  # "View site" would lead staff to the partner pages
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"
    index_template = "admin/staff_home.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_OTP or bool(request.user.is_verified())  # type: ignore[union-attr]

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        return name_sections(super().get_app_list(request, app_label))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("second-factor/", self.enrol_view, name="otp_enrol"),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {"needs_enrolment": needs_enrolment(request), **(extra_context or {})}
        response = super().login(request, context)
        if request.method == "POST" and needs_enrolment(request):
            return redirect("admin:otp_enrol")  # the right password, and no second factor yet
        return response

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        user = request.user
        assert isinstance(user, User)  # noqa: S101 - the admin lets only staff in
        context = {
            "panels": panels_for(user),
            "has_app_device": not settings.ADMIN_REQUIRE_OTP or second_factor.has_app_device(user),
            **(extra_context or {}),
        }
        return super().index(request, context)

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def enrol_view(self, request: HttpRequest) -> HttpResponseBase:
        """Set up an authenticator app: QR code and secret, a first code, ten backup codes."""
        user = _staff_member(request)
        if user is None:
            return redirect("admin:login")
        if second_factor.is_enrolled(user) and not request.user.is_verified():  # type: ignore[union-attr]
            return redirect("admin:login")  # prove the factor you have before adding one
        device = second_factor.pending_app_device(user)
        form = ConfirmAppForm(request.POST or None)
        context = {**self.each_context(request), "available_apps": [], "form": form}
        if request.method == "POST" and form.is_valid():
            codes = second_factor.confirm_app_device(device, form.cleaned_data["otp_token"])
            if codes is not None:
                django_otp.login(request, device)
                context.update(title=_("Your backup codes"), codes=codes)
                return TemplateResponse(request, "admin/otp_backup_codes.html", context)
            form.add_error(
                "otp_token", _("That code is not right. Enter the code the app shows now.")
            )
        context.update(
            title=_("Set up your second factor"),
            secret=second_factor.secret_of(device),
            qr_code=second_factor.qr_code_data_uri(device),
        )
        return TemplateResponse(request, "admin/otp_enrol.html", context)
