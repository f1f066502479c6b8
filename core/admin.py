"""Staff's read-only view of the outbox: what waits for the broker, and why."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("pk", "task", "created_at", "attempts", "published_at", "done_at", "last_error")
    list_filter = ("task", ("published_at", admin.EmptyFieldListFilter))
    date_hierarchy = "created_at"
    # The payload is a rendered e-mail (addresses, attachments): not shown in the list.
    exclude = ("payload",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
