"""The request list's filters: the AE's own queue, and the launches of one bulk file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import AE_GROUP
from requests_app.models import PartnerRequest


def _is_ae(user: User | AnonymousUser) -> bool:
    return isinstance(user, User) and user.groups.filter(name=AE_GROUP).exists()


class QueueFilter(admin.SimpleListFilter):
    """AEs land on their own queue; everyone can switch to the unassigned or to all."""

    title = _("queue")
    parameter_name = "queue"

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, list[str]],
        model: type[Model],
        model_admin: admin.ModelAdmin[Any],
    ) -> None:
        super().__init__(request, params, model, model_admin)
        if self.parameter_name not in self.used_parameters and _is_ae(request.user):
            self.used_parameters[self.parameter_name] = "mine"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, Any]]:
        return [
            ("mine", _("Assigned to me")),
            ("unassigned", _("Unassigned")),
            ("all", _("Everyone's")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[PartnerRequest]
    ) -> QuerySet[PartnerRequest]:
        if self.value() == "mine":
            return queryset.filter(assigned_ae_id=request.user.pk)
        if self.value() == "unassigned":
            return queryset.filter(assigned_ae__isnull=True)
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        current = self.value() or "all"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class BulkJobFilter(admin.SimpleListFilter):
    """The launches of one bulk file (the Dealdesk's e-mail links here)."""

    title = _("bulk job")
    parameter_name = "bulk_job"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        # Read through the requests' own link, so this app needs nothing of the bulk app's code.
        jobs = (
            PartnerRequest.objects.filter(bulk_job__isnull=False)
            .order_by("-bulk_job__created_at")
            .values_list("bulk_job", "bulk_job__partner__name", "bulk_job__filename")
            .distinct()[:20]
        )
        return [(str(pk), f"#{pk} {partner} {filename}") for pk, partner, filename in jobs]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[PartnerRequest]
    ) -> QuerySet[PartnerRequest]:
        value = self.value() or ""
        if value.isdigit():
            return queryset.filter(bulk_job_id=int(value))
        return queryset
