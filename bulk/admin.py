"""Staff screens for bulk check jobs: progress, errors, the report, and a retry action."""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.staff_admin import PermittedActionsMixin
from bulk.models import BulkCheckJob
from bulk.selectors import report_filename
from bulk.services import retry_failed_jobs


@admin.register(BulkCheckJob)
class BulkCheckJobAdmin(PermittedActionsMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "filename",
        "partner",
        "created_by",
        "mode",
        "status",
        "progress",
        "launched_count",
        "attempts",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "mode", ("created_at", admin.DateFieldListFilter), "partner")
    list_select_related = ("partner", "created_by")
    search_fields = ("filename", "partner__name", "created_by__email")
    date_hierarchy = "created_at"
    actions = ["retry"]
    exclude = ("input_data", "report_data")
    readonly_fields = (
        "partner",
        "created_by",
        "mode",
        "status",
        "filename",
        "encoding",
        "delimiter",
        "total_rows",
        "processed_rows",
        "counts",
        "launched_count",
        "error_message",
        "attempts",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "report_link",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[BulkCheckJob]:
        # The stored files can be megabytes each: never load them for a list or a form.
        return super().get_queryset(request).defer("input_data", "report_data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BulkCheckJob | None = None) -> bool:
        return False  # jobs change only through their worker (and the retry action)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.display(description=_("progress"))
    def progress(self, job: BulkCheckJob) -> str:
        return f"{job.processed_rows}/{job.total_rows}"

    @admin.display(description=_("report"))
    def report_link(self, job: BulkCheckJob) -> str:
        if job.status != BulkCheckJob.Status.DONE:
            return "—"
        url = reverse("admin:bulk_bulkcheckjob_report", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, report_filename(job))

    def get_urls(self) -> list[URLPattern]:
        report = self.admin_site.admin_view(self.report_view)
        return [
            path("<int:pk>/report.csv", report, name="bulk_bulkcheckjob_report"),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        job = get_object_or_404(
            BulkCheckJob.objects.only("pk", "report_data"), pk=pk, report_data__isnull=False
        )
        response = HttpResponse(
            bytes(job.report_data or b""), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{report_filename(job)}"'
        return response

    @admin.action(description=_("Retry the selected failed jobs"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[BulkCheckJob]) -> None:
        sent = retry_failed_jobs(queryset)
        self.message_user(
            request,
            ngettext("%(count)d job queued again.", "%(count)d jobs queued again.", sent)
            % {"count": sent},
            messages.SUCCESS if sent else messages.WARNING,
        )
