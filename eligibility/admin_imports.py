"""Staff screens for registry imports: upload a file, follow the job, download invalid lines.

The upload page refuses a file over the size limit before reading its body, and a file that
cannot be imported (not a CSV, unreadable, wrong header) as soon as it is received; a good
file becomes a job run by the worker (eligibility.import_jobs).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.models import User
from core.uploads import declared_too_large
from eligibility import import_jobs
from eligibility.importer_types import ImportFileError
from eligibility.models import RegistryImport
from eligibility.registry_rows import COLUMNS

_PHASES = {
    "reading": _("reading and checking the file"),
    "duplicates": _("looking for companies on two lines"),
    "companies": _("writing the companies"),
    "subscriptions": _("writing the subscriptions"),
    "removals": _("removing products the file no longer lists"),
}
_COUNTS = (
    ("created", _("companies created")),
    ("updated", _("companies updated")),
    ("unchanged", _("companies unchanged")),
    ("invalid", _("invalid lines (skipped)")),
    ("duplicates", _("repeated lines (the later line wins)")),
    ("subscriptions_created", _("subscriptions created")),
    ("subscriptions_updated", _("subscriptions updated")),
    ("subscriptions_deleted", _("subscriptions removed")),
)


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Registry file (CSV)"),
        help_text=_(
            "Columns %(columns)s; products are |-separated product codes, paid_by is client "
            "or a partner's name. Companies missing from the file are left as they are."
        )
        % {"columns": ",".join(COLUMNS)},
    )


@admin.register(RegistryImport)
class RegistryImportAdmin(admin.ModelAdmin):
    list_display = ("pk", "filename", "status", "rows", "problem_count", "created_by", "created_at")
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("created_by",)
    search_fields = ("filename", "created_by__email")
    fields = (
        "status_marker",
        "filename",
        "size",
        "created_by",
        "progress",
        "result",
        "problems_link",
        "error_message",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    change_form_template = "admin/eligibility/registryimport/change_form.html"

    @staticmethod
    def may_upload(request: HttpRequest) -> bool:
        opts = RegistryImport._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a job changes only through its worker

    def delete_model(self, request: HttpRequest, obj: RegistryImport) -> None:
        import_jobs.delete_jobs(RegistryImport.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RegistryImport]) -> None:
        import_jobs.delete_jobs(queryset)

    # --- The job's page -------------------------------------------------------------------

    @admin.display(description=_("status"))
    def status_marker(self, job: RegistryImport) -> str:
        return format_html(
            '<span data-import-status="{}">{}</span>', job.status, job.get_status_display()
        )

    @admin.display(description=_("progress"))
    def progress(self, job: RegistryImport) -> str:
        live = import_jobs.live_progress(job)
        if live is None:
            return "—" if job.is_active else _("%(rows)s rows read") % {"rows": f"{job.rows:,}"}
        return _("%(rows)s rows read (%(percent)d%% of the file): %(phase)s") % {
            "rows": f"{live['rows']:,}",
            "percent": live["percent"],
            "phase": _PHASES.get(live["phase"], live["phase"]),
        }

    @admin.display(description=_("result"))
    def result(self, job: RegistryImport) -> str:
        if job.status != RegistryImport.Status.DONE:
            return "—"
        counts = job.counts or {}
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li data-count="{}">{}: {}</li>',
                ((name, label, counts.get(name, 0)) for name, label in _COUNTS),
            ),
        )

    @admin.display(description=_("invalid lines"))
    def problems_link(self, job: RegistryImport) -> str:
        if not job.problems:
            return "—"
        url = reverse("admin:eligibility_registryimport_problems", args=[job.pk])
        return format_html(
            '<a href="{}" data-problems-link>{}</a>',
            url,
            _("Download the %(count)d invalid or repeated lines (CSV)")
            % {"count": job.problem_count},
        )

    # --- Upload and download ----------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        upload = self.admin_site.admin_view(csrf_exempt(self.upload_view))
        problems = self.admin_site.admin_view(self.problems_view)
        return [
            path("add/", upload, name="eligibility_registryimport_add"),
            path(
                "<int:pk>/invalid-lines.csv", problems, name="eligibility_registryimport_problems"
            ),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """CSRF is checked after the size: a huge body is refused before it is read."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and declared_too_large(
            request, max_file_bytes=settings.REGISTRY_IMPORT_MAX_BYTES
        ):
            form = RegistryUploadForm()
            form.errors["file"] = form.error_class([import_jobs.size_limit_message()])
            return self._upload_page(request, form, status=413)
        return self._upload(request)

    @method_decorator(csrf_protect)
    def _upload(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self._upload_page(request, RegistryUploadForm())
        form = RegistryUploadForm(request.POST, request.FILES)
        if form.is_valid():
            user = request.user
            assert isinstance(user, User)
            try:
                job = import_jobs.start_registry_import(user=user, upload=form.cleaned_data["file"])
            except ImportFileError as refused:
                form.add_error("file", str(refused))
            else:
                self.message_user(
                    request,
                    _("The file is being imported; this page shows how far it has got."),
                    messages.SUCCESS,
                )
                url = reverse("admin:eligibility_registryimport_change", args=[job.pk])
                return HttpResponseRedirect(url)
        return self._upload_page(request, form, status=400)

    def _upload_page(
        self, request: HttpRequest, form: RegistryUploadForm, status: int = 200
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import a registry file"),
            "form": form,
            "max_size": filesizeformat(settings.REGISTRY_IMPORT_MAX_BYTES),
        }
        return TemplateResponse(
            request, "admin/eligibility/registryimport/upload.html", context, status=status
        )

    def problems_view(self, request: HttpRequest, pk: int) -> FileResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(RegistryImport, pk=pk)
        if not job.problems:
            raise Http404
        return FileResponse(
            job.problems.open("rb"),
            as_attachment=True,
            filename=f"registry-import-{job.pk}-invalid-lines.csv",
            content_type="text/csv; charset=utf-8",
        )
