"""Support use cases: take a problem report, limit how often, close reports."""

from __future__ import annotations

from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.emails import Attachment, queue_email
from core.urls import absolute_url
from support.forms import Screenshot
from support.models import ProblemReport

USER_AGENT_MAX_CHARS = ProblemReport._meta.get_field("user_agent").max_length


def report_allowed(request: HttpRequest, *, email: str) -> bool:
    """Count one report against the limits in ACCOUNT_RATE_LIMITS (on the shared cache).

    Anonymous reporters are limited per IP and per e-mail address; signed-in users per user,
    so colleagues behind one office address do not use up each other's allowance.
    """
    if request.user.is_authenticated:
        return bool(ratelimit.consume(request, action="support_report", user=request.user))
    return bool(ratelimit.consume(request, action="support_report_anonymous", key=email.lower()))


def submit_problem_report(
    *,
    user: User | AnonymousUser | None,
    email: str,
    description: str,
    page: str = "",
    request_id: str = "",
    user_agent: str = "",
    screenshot: Screenshot | None = None,
) -> ProblemReport:
    """Store the report and e-mail it (with the screenshot) to the support address.

    Either both happen or neither: the stored screenshot is removed if the report cannot be
    saved, and the e-mail leaves only once the report is committed.
    """
    reporter = user if isinstance(user, User) else None  # None: not signed in
    report = ProblemReport(
        user=reporter,
        partner=reporter.partner if reporter else None,
        email=email,
        description=description,
        page=page,
        request_id=request_id,
        user_agent=user_agent[:USER_AGENT_MAX_CHARS],
    )
    content = b""
    if screenshot is not None:
        screenshot.upload.seek(0)
        content = screenshot.upload.read()
        report.screenshot.save(
            f"screenshot.{screenshot.extension}", ContentFile(content), save=False
        )
    try:
        with transaction.atomic():
            report.save()
            _email_support(report, reporter, screenshot, content)
    except BaseException:
        if report.screenshot:
            report.screenshot.delete(save=False)
        raise
    return report


def _email_support(
    report: ProblemReport, reporter: User | None, screenshot: Screenshot | None, content: bytes
) -> None:
    """Queue the report's e-mail to support (sent once the report is committed)."""
    attachments = []
    if screenshot is not None:
        attachments.append(
            Attachment(
                filename=f"{report.reference}-screenshot.{screenshot.extension}",
                content=content,
                mimetype=screenshot.mimetype,
            )
        )
    queue_email(
        "support_report",
        settings.SUPPORT_EMAIL,
        {
            "report": report,
            "signed_in": reporter is not None,
            "reporter_name": reporter.get_full_name() if reporter else "",
            "admin_url": absolute_url(
                reverse("admin:support_problemreport_change", args=[report.pk])
            ),
        },
        attachments=attachments,
    )


def close_reports(*, reports: QuerySet[ProblemReport]) -> int:
    """Close the open reports among `reports`; returns how many changed."""
    return reports.filter(status=ProblemReport.Status.OPEN).update(
        status=ProblemReport.Status.CLOSED, closed_at=timezone.now()
    )


def reopen_reports(*, reports: QuerySet[ProblemReport]) -> int:
    """Reopen the closed reports among `reports`; returns how many changed."""
    return reports.filter(status=ProblemReport.Status.CLOSED).update(
        status=ProblemReport.Status.OPEN, closed_at=None
    )


def delete_reports(*, reports: QuerySet[ProblemReport]) -> int:
    """Delete reports and, once that is committed, their screenshots."""
    with transaction.atomic():
        files = [report.screenshot for report in reports if report.screenshot]
        deleted, _ = reports.delete()

        def remove_files() -> None:
            for screenshot in files:
                if screenshot.name:
                    screenshot.storage.delete(screenshot.name)

        transaction.on_commit(remove_files)
    return deleted
