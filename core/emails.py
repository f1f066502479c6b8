"""E-mails as a template triple (subject, text body, HTML body), sent by a Celery task.

Messages are rendered when the use case runs (so links and dates are those of that moment) and
recorded in the outbox (core.outbox) in the use case's transaction: they exist exactly when
its data does, and leave once the broker takes them. The task sends each recorded message
once, however many times it is delivered.
"""

from __future__ import annotations

import base64
import zoneinfo
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core import outbox
from core.models import OutboxMessage


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "text/csv"


@dataclass
class RenderedEmail:
    to: list[str]
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)

    def as_task_payload(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "attachments": [
                {
                    "filename": a.filename,
                    "content_b64": base64.b64encode(a.content).decode("ascii"),
                    "mimetype": a.mimetype,
                }
                for a in self.attachments
            ],
        }


def render_email(
    name: str,
    to: list[str] | str,
    context: dict[str, Any],
    *,
    language: str | None = None,
    time_zone: str | None = None,
) -> RenderedEmail:
    """Render the triple in the recipient's `language` and `time_zone`.

    Without them, the site's default language (e-mails to Wellhub's teams) and time zone.
    """
    context = {
        "support_email": settings.SUPPORT_EMAIL,
        **context,
    }
    with ExitStack() as stack:
        stack.enter_context(translation.override(language or settings.LANGUAGE_CODE))
        stack.enter_context(timezone.override(_zone(time_zone)))
        subject_lines = render_to_string(f"emails/{name}_subject.txt", context)
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject_lines.split())
        return RenderedEmail(
            to=[to] if isinstance(to, str) else list(to),
            subject=subject,
            text=render_to_string(f"emails/{name}_body.txt", context),
            html=render_to_string(f"emails/{name}_body.html", context),
        )


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def deliver(payload: dict[str, Any]) -> None:
    """Send one rendered message now (the task calls this)."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=payload["to"],
    )
    message.attach_alternative(payload["html"], "text/html")
    for attachment in payload.get("attachments", []):
        message.attach(
            attachment["filename"],
            base64.b64decode(attachment["content_b64"]),
            attachment["mimetype"],
        )
    message.send()


@shared_task(
    name="core.send_email",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_email_task(outbox_id: int) -> None:
    """Send one recorded message; retried with backoff while the mail server is unreachable."""
    send_recorded_email(outbox_id)


def send_recorded_email(outbox_id: int) -> bool:
    """Send the recorded message unless it was sent already; True when it was sent now.

    The row stays locked while the message goes out, so two deliveries of the task at the
    same moment cannot both send it; a failed send leaves it unsent, for the retry.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=outbox_id, done_at__isnull=True)
            .first()
        )
        if message is None or message.payload is None:
            return False
        deliver(message.payload)
        OutboxMessage.objects.filter(pk=outbox_id).update(done_at=timezone.now())
    return True


def queue_email(
    name: str,
    to: list[str] | str,
    context: dict[str, Any],
    attachments: list[Attachment] | None = None,
    *,
    language: str | None = None,
    time_zone: str | None = None,
) -> RenderedEmail:
    """Render now and record it with the current transaction; it is sent once that commits."""
    email = render_email(name, to, context, language=language, time_zone=time_zone)
    email.attachments = attachments or []
    outbox.enqueue(send_email_task, payload=email.as_task_payload())
    return email
