"""The outbox: work a use case recorded with its data, waiting to be handed to Celery."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One task to publish (an e-mail to send, a bulk job to process), written in the same
    transaction as the data it is about, so it exists exactly when that data does.

    `core.outbox` publishes it once the transaction commits and, while the broker is away,
    every few seconds from then on; `published_at` says it left. For an e-mail, the message
    itself is stored in `payload` and `done_at` says it was sent, so a second delivery of the
    same task sends nothing.
    """

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    payload = models.JSONField(_("payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # Due for (another) attempt from then on; a relay taking it pushes this forward (a lease).
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(published_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.task}"
