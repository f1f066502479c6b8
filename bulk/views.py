"""Partner pages of the bulk check: upload, the jobs list with live progress, the report."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Partner, User
from accounts.rules import acting_partner
from bulk.csv import TEMPLATE_COLUMNS, UploadRejected, template_csv
from bulk.forms import BulkUploadForm, BulkUploadHandler
from bulk.models import BulkCheckJob
from bulk.relaunch import LAUNCH_AVAILABLE, launch_available_rows, may_launch_available
from bulk.rows import job_rows, launch_summary, result_filters
from bulk.selectors import get_partner_job, get_partner_report, partner_jobs, report_filename
from bulk.services import start_bulk_check
from core.uploads import declared_too_large


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _csv_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def bulk_template(request: HttpRequest) -> HttpResponse:
    return _csv_response(template_csv(), "bulk-check-template.csv")


@csrf_exempt  # the upload handler must be set before the body is read; CSRF is checked below
@login_required
@require_http_methods(["GET", "POST"])
def bulk_jobs(request: HttpRequest) -> HttpResponse:
    partner = acting_partner(_user(request))
    if request.method == "POST" and declared_too_large(
        request, max_file_bytes=settings.BULK_MAX_BYTES
    ):
        # Answer before reading a byte of the body: nothing of it is stored or parsed.
        form = BulkUploadForm(
            data={"mode": BulkCheckJob.Mode.CHECK}, partner=partner, upload_too_large=True
        )
        form.is_valid()
        return _render_jobs(request, partner, form, status=413)
    handler = BulkUploadHandler(request, max_bytes=settings.BULK_MAX_BYTES)
    request.upload_handlers = [handler]
    return _bulk_jobs(request, partner, handler)


@csrf_protect
def _bulk_jobs(request: HttpRequest, partner: Partner, handler: BulkUploadHandler) -> HttpResponse:
    if request.method != "POST":
        return _render_jobs(request, partner, BulkUploadForm(partner=partner))
    if request.POST.get("mode") == LAUNCH_AVAILABLE:
        return _launch_available(request)
    form = BulkUploadForm(
        request.POST, request.FILES, partner=partner, upload_too_large=handler.too_large
    )
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = start_bulk_check(
                user=_user(request),
                filename=upload.name,
                data=upload.read(),
                mode=form.cleaned_data["mode"],
            )
        except UploadRejected as rejected:
            form.add_error("file", rejected.message)
        else:
            messages.success(
                request,
                ngettext(
                    "“%(name)s” is queued: %(rows)s row. We will e-mail you the report.",
                    "“%(name)s” is queued: %(rows)s rows. We will e-mail you the report.",
                    job.total_rows,
                )
                % {"name": job.filename, "rows": job.total_rows},
            )
            return redirect("bulk:jobs")
    return _render_jobs(request, partner, form)


def _launch_available(request: HttpRequest) -> HttpResponse:
    """From a check-only job's page: its available rows with contact data, launched."""
    source = request.POST.get("job", "")
    try:
        job = launch_available_rows(user=_user(request), job_id=source)
    except UploadRejected as refused:
        messages.error(request, refused.message)
        return redirect("bulk:job", int(source))
    messages.success(
        request,
        ngettext(
            "%(rows)s available row is being checked again and launched: “%(name)s”.",
            "%(rows)s available rows are being checked again and launched: “%(name)s”.",
            job.total_rows,
        )
        % {"name": job.filename, "rows": job.total_rows},
    )
    return redirect("bulk:job", job.pk)


def _render_jobs(
    request: HttpRequest, partner: Partner, form: BulkUploadForm, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "partner": partner,
        "jobs": partner_jobs(partner),
        "template_columns": TEMPLATE_COLUMNS,
        "max_rows": settings.BULK_MAX_ROWS,
        "max_bytes": settings.BULK_MAX_BYTES,
    }
    return render(request, "bulk/list.html", context, status=status)


@login_required
@require_GET
def bulk_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job with its rows, a page at a time, filtered by result."""
    partner = acting_partner(_user(request))
    job = get_partner_job(partner=partner, pk=pk)
    page = job_rows(job=job, result=request.GET.get("result", ""), page=request.GET.get("page"))
    context = {
        "job": job,
        "page": page,
        "filters": result_filters(job),
        "summary": launch_summary(job),
        "may_launch_available": may_launch_available(job, partner),
        "launch_available": LAUNCH_AVAILABLE,
    }
    return render(request, "bulk/detail.html", context)


@login_required
@require_GET
def bulk_job_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """One job's card, polled by the jobs page while the job is queued or running."""
    job = get_partner_job(partner=acting_partner(_user(request)), pk=pk)
    return render(request, "bulk/_job.html", {"job": job})


@login_required
@require_GET
def bulk_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_partner_report(partner=acting_partner(_user(request)), pk=pk)
    return _csv_response(bytes(job.report_data or b""), report_filename(job))
