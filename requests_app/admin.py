"""Staff screens for requests: AEs' queues, Dealdesk approval, status changes through services."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import DECIDE_BULK_LAUNCH
from accounts.staff_admin import Panel, PermittedActionsMixin, register_panel
from eligibility.taxid import format_tax_id
from requests_app import status as status_changes
from requests_app.admin_conversation import conversation_html
from requests_app.admin_filters import BulkJobFilter, QueueFilter
from requests_app.admin_forms import PartnerRequestAdminForm
from requests_app.conversation import post_wellhub_answer
from requests_app.models import (
    FOLLOWUP_KINDS,
    OPEN_LAUNCH_STATUSES,
    PartnerRequest,
    RequestEvent,
    RequestKind,
    RequestStatus,
)
from requests_app.shared import InvalidTransition
from requests_app.status import BulkDecision


def _staff(request: HttpRequest) -> User:
    """The staff member using the admin (the admin site lets only them in)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    return user


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(PartnerRequest)
class PartnerRequestAdmin(PermittedActionsMixin, admin.ModelAdmin):
    form = PartnerRequestAdminForm
    view_on_site = False  # the request's page is the partner's; staff would be refused
    list_display = (
        "reference",
        "kind",
        "status",
        "partner",
        "company_label",
        "assigned_ae",
        "created_at",
        "due_date",
        "protected_until",
    )
    list_filter = (
        QueueFilter,
        "kind",
        "status",
        "partner",
        ("assigned_ae", admin.RelatedOnlyFieldListFilter),
        BulkJobFilter,
    )
    list_select_related = ("partner", "company", "assigned_ae")
    search_fields = (
        "reference",
        "company__tax_id",
        "company__legal_name",
        "company_name",
        "partner__name",
    )
    date_hierarchy = "created_at"
    inlines = [RequestEventInline]
    readonly_fields = (
        "reference",
        "kind",
        "partner",
        "created_by",
        "company",
        "company_name",
        "protection_key",
        "business_model",
        "products_list",
        "contact_name",
        "contact_email",
        "contact_phone",
        "employee_count",
        "due_date",
        "protected_until",
        "expiry_warning_sent_at",
        "bulk_job",
        "bulk_row",
        "created_at",
        "updated_at",
        "conversation",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "kind",
                    "partner",
                    "created_by",
                    "company",
                    "company_name",
                    "business_model",
                    "products_list",
                )
            },
        ),
        (
            _("Status"),
            {
                "fields": (
                    "status",
                    "note",
                    "assigned_ae",
                    "due_date",
                    "protected_until",
                    "expiry_warning_sent_at",
                )
            },
        ),
        (_("Conversation"), {"fields": ("conversation", "answer")}),
        (
            _("Contact"),
            {"fields": ("contact_name", "contact_email", "contact_phone", "employee_count")},
        ),
        (
            _("Origin"),
            {"fields": ("protection_key", "bulk_job", "bulk_row", "created_at", "updated_at")},
        ),
    )
    actions = (
        "mark_in_progress",
        "mark_won",
        "mark_lost",
        "approve_followups",
        "decline_followups",
        "dealdesk_approve",
        "dealdesk_reject",
    )

    @admin.display(description=_("company"), ordering="company__tax_id")
    def company_label(self, obj: PartnerRequest) -> str:
        tax_id = format_tax_id(obj.company.country, obj.company.tax_id)
        return f"{obj.display_company_name or '—'} ({obj.company.country} {tax_id})"

    def has_change_permission(
        self, request: HttpRequest, obj: PartnerRequest | None = None
    ) -> bool:
        """An AE changes the requests of their work: assigned to them, or to nobody yet."""
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or _may_work_on(request.user, obj)

    def has_decide_bulk_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(DECIDE_BULK_LAUNCH)

    @admin.display(description=_("messages"))
    def conversation(self, obj: PartnerRequest) -> str:
        return conversation_html(obj)

    @admin.display(description=_("products"))
    def products_list(self, obj: PartnerRequest) -> str:
        return ", ".join(product.name for product in obj.products.all()) or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Requests come from partners (or the bulk check), never typed in by staff.
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: PartnerRequest | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: PartnerRequest, form: forms.ModelForm[Any], change: bool
    ) -> None:
        # Status and AE go through the services (history, e-mails), never a raw save.
        current = PartnerRequest.objects.select_related("partner").get(pk=obj.pk)
        if "assigned_ae" in form.changed_data:
            status_changes.reassign_ae(
                request=current, ae=form.cleaned_data["assigned_ae"], actor=_staff(request)
            )
        if "status" in form.changed_data:
            try:
                status_changes.change_status(
                    request=current,
                    to_status=form.cleaned_data["status"],
                    actor=_staff(request),
                    note=form.cleaned_data.get("note", ""),
                )
            except InvalidTransition as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if form.cleaned_data.get("answer"):
            post_wellhub_answer(
                staff=_staff(request), request=current, body=form.cleaned_data["answer"]
            )
        obj.refresh_from_db()

    def _change_each(
        self,
        request: HttpRequest,
        queryset: QuerySet[PartnerRequest],
        to_status: str,
        *,
        kinds: Collection[str] | None = None,
    ) -> None:
        changed = 0
        refused: list[str] = []
        for item in queryset.select_related("partner", "company", "created_by"):
            if kinds is not None and item.kind not in kinds:
                refused.append(
                    gettext("%(reference)s is a %(kind)s request: this action is not for it.")
                    % {"reference": item, "kind": str(item.get_kind_display()).lower()}
                )
            elif not _may_work_on(request.user, item):
                refused.append(
                    gettext("%(reference)s is assigned to %(ae)s.")
                    % {"reference": item, "ae": item.assigned_ae}
                )
            else:
                try:
                    status_changes.change_status(
                        request=item, to_status=to_status, actor=_staff(request)
                    )
                except InvalidTransition as exc:
                    refused.append(exc.message)
                else:
                    changed += 1
        self._report(request, to_status, changed, refused)

    def _report(
        self, request: HttpRequest, to_status: str, changed: int, refused: list[str]
    ) -> None:
        label = RequestStatus(to_status).label
        if changed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d request is now %(status)s.",
                    "%(count)d requests are now %(status)s.",
                    changed,
                )
                % {"count": changed, "status": label},
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(
                request, gettext("Not changed: %(reason)s") % {"reason": reason}, messages.WARNING
            )

    @admin.action(description=_("Mark as in progress"), permissions=["change"])
    def mark_in_progress(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._change_each(request, queryset, RequestStatus.IN_PROGRESS)

    @admin.action(description=_("Mark launches as won"), permissions=["change"])
    def mark_won(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._change_each(request, queryset, RequestStatus.WON, kinds=(RequestKind.LAUNCH,))

    @admin.action(description=_("Mark launches as lost"), permissions=["change"])
    def mark_lost(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._change_each(request, queryset, RequestStatus.LOST, kinds=(RequestKind.LAUNCH,))

    @admin.action(description=_("Approve upsell / takeover requests"), permissions=["change"])
    def approve_followups(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._change_each(request, queryset, RequestStatus.APPROVED, kinds=FOLLOWUP_KINDS)

    @admin.action(description=_("Decline upsell / takeover requests"), permissions=["change"])
    def decline_followups(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._change_each(request, queryset, RequestStatus.DECLINED, kinds=FOLLOWUP_KINDS)

    @admin.action(
        description=_("Dealdesk: approve pending bulk launches"), permissions=["decide_bulk"]
    )
    def dealdesk_approve(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._dealdesk(
            request, queryset, status_changes.approve_bulk_launches, RequestStatus.APPROVED
        )

    @admin.action(
        description=_("Dealdesk: reject pending bulk launches"), permissions=["decide_bulk"]
    )
    def dealdesk_reject(self, request: HttpRequest, queryset: QuerySet[PartnerRequest]) -> None:
        self._dealdesk(
            request, queryset, status_changes.reject_bulk_launches, RequestStatus.REJECTED
        )

    def _dealdesk(
        self,
        request: HttpRequest,
        queryset: QuerySet[PartnerRequest],
        decide: Callable[..., BulkDecision],
        status: str,
    ) -> None:
        outcome = decide(
            requests=queryset.select_related("partner", "created_by", "company"),
            actor=_staff(request),
        )
        refused = [
            gettext("%(reference)s is not a bulk launch waiting for approval (it is %(status)s).")
            % {"reference": item, "status": str(item.get_status_display()).lower()}
            for item in outcome.skipped
        ]
        self._report(request, status, len(outcome.changed), refused)


def _may_work_on(user: Any, item: PartnerRequest) -> bool:
    return bool(user.is_superuser) or item.assigned_ae_id in (None, user.pk)


def _my_open_launches(user: User) -> QuerySet[PartnerRequest]:
    return PartnerRequest.objects.filter(
        assigned_ae=user, kind=RequestKind.LAUNCH, status__in=OPEN_LAUNCH_STATUSES
    )


def _waiting_for_dealdesk() -> QuerySet[PartnerRequest]:
    return PartnerRequest.objects.filter(
        kind=RequestKind.LAUNCH, status=RequestStatus.PENDING_APPROVAL
    )


_CHANGELIST = "admin:requests_app_partnerrequest_changelist"
register_panel(
    Panel(
        key="my-open-launches",
        title=_("My open launches"),
        permission="requests_app.change_partnerrequest",
        count=lambda user: _my_open_launches(user).count(),
        url=lambda user: (
            reverse(_CHANGELIST)
            + "?queue=mine&kind__exact=launch&status__in="
            + ",".join(OPEN_LAUNCH_STATUSES)
        ),
    )
)
register_panel(
    Panel(
        key="bulk-launches-waiting",
        title=_("Bulk launches waiting for approval"),
        permission=DECIDE_BULK_LAUNCH,
        count=lambda user: _waiting_for_dealdesk().count(),
        url=lambda user: (
            reverse(_CHANGELIST) + "?queue=all&kind__exact=launch&status__exact=pending_approval"
        ),
    )
)
