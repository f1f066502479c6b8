"""Support's screen for problem reports: find, look at the screenshot, close."""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.staff_admin import Panel, PermittedActionsMixin, register_panel
from support import services as support_services
from support.models import ProblemReport

_REFERENCE = re.compile(r"SR-(\d{1,12})", re.IGNORECASE)
_MIMETYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


@admin.register(ProblemReport)
class ProblemReportAdmin(PermittedActionsMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "created_at",
        "status",
        "email",
        "partner",
        "page",
        "request_id",
        "has_screenshot",
    ]
    list_display_links = ["reference"]
    list_filter = ["status", "created_at", "partner"]
    search_fields = ["email", "request_id"]
    search_help_text = _("Search by e-mail, request ID or reference (SR-000042).")
    date_hierarchy = "created_at"
    list_select_related = ["partner"]
    actions = ["close_selected", "reopen_selected"]
    readonly_fields = [
        "reference",
        "status",
        "created_at",
        "user",
        "partner",
        "email",
        "page",
        "request_id",
        "user_agent",
        "screenshot_preview",
        "description",
        "closed_at",
    ]
    fields = [
        "reference",
        "status",
        "created_at",
        "closed_at",
        "email",
        "user",
        "partner",
        "page",
        "request_id",
        "user_agent",
        "description",
        "screenshot_preview",
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ProblemReport], search_term: str
    ) -> tuple[QuerySet[ProblemReport], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = _REFERENCE.fullmatch(search_term.strip())
        if match:
            results |= queryset.filter(pk=int(match.group(1)))
        return results, may_have_duplicates

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from the site only

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, obj: ProblemReport) -> str:
        return obj.reference

    @admin.display(description=_("screenshot"), boolean=True)
    def has_screenshot(self, obj: ProblemReport) -> bool:
        return bool(obj.screenshot)

    @admin.display(description=_("screenshot"))
    def screenshot_preview(self, obj: ProblemReport) -> str:
        if not obj.screenshot:
            return "—"
        url = reverse("admin:support_problemreport_screenshot", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" width="480"></a>',
            url,
            url,
            _("Screenshot sent with the report"),
        )

    @admin.action(description=_("Close the selected reports"), permissions=["change"])
    def close_selected(self, request: HttpRequest, queryset: QuerySet[ProblemReport]) -> None:
        closed = support_services.close_reports(reports=queryset)
        self.message_user(
            request,
            ngettext("%(count)d report closed.", "%(count)d reports closed.", closed)
            % {"count": closed},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reopen the selected reports"), permissions=["change"])
    def reopen_selected(self, request: HttpRequest, queryset: QuerySet[ProblemReport]) -> None:
        reopened = support_services.reopen_reports(reports=queryset)
        self.message_user(
            request,
            ngettext("%(count)d report reopened.", "%(count)d reports reopened.", reopened)
            % {"count": reopened},
            messages.SUCCESS,
        )

    def delete_model(self, request: HttpRequest, obj: ProblemReport) -> None:
        support_services.delete_reports(reports=ProblemReport.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProblemReport]) -> None:
        support_services.delete_reports(reports=queryset)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/screenshot/",
                self.admin_site.admin_view(self.screenshot_view),
                name="support_problemreport_screenshot",
            ),
            *super().get_urls(),
        ]

    def screenshot_view(self, request: HttpRequest, pk: int) -> FileResponse:
        """Screenshots are private: only staff who may see reports get them, via the admin."""
        if not self.has_view_permission(request):
            raise Http404
        report = get_object_or_404(ProblemReport, pk=pk)
        if not report.screenshot:
            raise Http404
        extension = (report.screenshot.name or "").rsplit(".", 1)[-1].lower()
        try:
            handle = report.screenshot.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle, content_type=_MIMETYPES.get(extension, "application/octet-stream")
        )
        response["Content-Disposition"] = f'inline; filename="{report.reference}.{extension}"'
        response["Cache-Control"] = "private, no-store"
        return response


register_panel(
    Panel(
        key="open-problem-reports",
        title=_("Open problem reports"),
        permission="support.view_problemreport",
        count=lambda user: ProblemReport.objects.filter(status=ProblemReport.Status.OPEN).count(),
        url=lambda user: reverse("admin:support_problemreport_changelist") + "?status__exact=open",
    )
)
