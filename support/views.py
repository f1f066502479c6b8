"""Support pages: "Report a problem" and its thank-you page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from core.uploads import declared_too_large
from support import services as support_services
from support.forms import (
    ProblemReportForm,
    ScreenshotUploadHandler,
    clean_page,
    clean_request_id,
    too_large_error,
)

SESSION_KEY = "support_report_reference"
TEMPLATE = "support/report.html"


@csrf_exempt  # the upload handler must be set before the body is read; CSRF is checked below
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and declared_too_large(
        request, max_file_bytes=settings.SUPPORT_SCREENSHOT_MAX_BYTES
    ):
        # Answer before reading the body: nothing of it is parsed or stored.
        form = ProblemReportForm(user=request.user)
        page_error = " ".join(too_large_error().messages)
        return render(request, TEMPLATE, {"form": form, "page_error": page_error}, status=413)
    handler = ScreenshotUploadHandler(request, max_bytes=settings.SUPPORT_SCREENSHOT_MAX_BYTES)
    request.upload_handlers = [handler]
    return _report(request, handler)


@csrf_protect
def _report(request: HttpRequest, handler: ScreenshotUploadHandler) -> HttpResponse:
    if request.method != "POST":
        form = ProblemReportForm(
            user=request.user,
            initial={
                "page": clean_page(request.GET.get("page")),
                "request_id": clean_request_id(request.GET.get("request_id")),
            },
        )
        return render(request, TEMPLATE, {"form": form})

    form = ProblemReportForm(
        request.POST, request.FILES, user=request.user, screenshot_too_large=handler.too_large
    )
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form})
    data = form.cleaned_data
    if not support_services.report_allowed(request, email=data["email"]):
        form.add_error(
            None,
            _(
                "You have sent several reports in a short time. Please try "
                "again later, or write to us by e-mail."
            ),
        )
        return render(request, TEMPLATE, {"form": form}, status=429)
    problem = support_services.submit_problem_report(
        user=request.user,
        email=data["email"],
        description=data["description"],
        page=data["page"],
        request_id=data["request_id"],
        user_agent=request.headers.get("User-Agent", ""),
        screenshot=data["screenshot"],
    )
    request.session[SESSION_KEY] = problem.reference
    return redirect("support:report_sent")


def report_sent(request: HttpRequest) -> HttpResponse:
    reference = request.session.get(SESSION_KEY)
    if not reference:
        return redirect("support:report")
    return render(request, "support/report_sent.html", {"reference": reference})
