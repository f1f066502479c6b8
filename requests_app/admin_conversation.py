"""The conversation in the request's admin page: the messages so far, and the AE's answer."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from requests_app.conversation import message_refusal
from requests_app.models import MESSAGE_MAX_LENGTH, PartnerRequest


def conversation_html(request: PartnerRequest) -> str:
    """The messages so far, oldest first, escaped (plain text from both sides)."""
    messages = request.messages.select_related("author").order_by("created_at", "pk")
    lines = format_html_join(
        "",
        "<li><strong>{}</strong> · {} · {}<br>{}</li>",
        (
            (
                _("Wellhub") if message.from_wellhub else _("Partner"),
                message.author.get_full_name() if message.author else "—",
                date_format(timezone.localtime(message.created_at), "SHORT_DATETIME_FORMAT"),
                linebreaksbr(message.body, autoescape=True),
            )
            for message in messages
        ),
    )
    return format_html("<ul>{}</ul>", lines) if lines else "—"


def answer_field() -> forms.CharField:
    return forms.CharField(
        label=_("Answer to the partner"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH}),
        help_text=_("Added to the request's timeline and e-mailed to the partner. Plain text."),
    )


def clean_answer(value: str) -> str:
    """An empty answer means none; otherwise the message rules apply."""
    if not (value or "").strip():
        return ""
    refusal = message_refusal(value)
    if refusal:
        raise ValidationError(refusal)
    return value
