"""The conversation on a request: the partner writes to its AE, the AE answers from the admin.

Messages are plain text (shown escaped), at most MESSAGE_MAX_LENGTH characters, and each one is
e-mailed to the other side once it is saved.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from requests_app import notifications
from requests_app.models import MESSAGE_MAX_LENGTH, PartnerRequest, RequestMessage


class MessageRefused(Exception):
    """The message cannot be sent; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


def message_refusal(body: str) -> str:
    """Why this text cannot be sent as a message ("" when it can)."""
    text = (body or "").strip()
    if not text:
        return _("Write a message before sending it.")
    if len(text) > MESSAGE_MAX_LENGTH:
        return _("A message can be at most %(max)d characters long; this one has %(count)d.") % {
            "max": MESSAGE_MAX_LENGTH,
            "count": len(text),
        }
    return ""


def _clean(body: str) -> str:
    refusal = message_refusal(body)
    if refusal:
        raise MessageRefused(refusal)
    # NUL characters only come from hostile input, and PostgreSQL text cannot hold them.
    return body.strip().replace("\x00", "")


@transaction.atomic
def post_partner_message(*, user: User, request: PartnerRequest, body: str) -> RequestMessage:
    """A partner user's message on its own request (the caller has scoped the request to the
    user's partner); e-mailed to the assigned AE, else to the team that answers the request."""
    message = RequestMessage.objects.create(
        request=request, author=user, from_wellhub=False, body=_clean(body)
    )
    notifications.notify_partner_message(message)
    return message


@transaction.atomic
def post_wellhub_answer(*, staff: User, request: PartnerRequest, body: str) -> RequestMessage:
    """Wellhub's answer on a request, from the admin; e-mailed to the partner."""
    message = RequestMessage.objects.create(
        request=request, author=staff, from_wellhub=True, body=_clean(body)
    )
    notifications.notify_wellhub_answer(message)
    return message
