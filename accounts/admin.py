"""Support's screens for partners and users.

Creating a user, reactivating and blocking go through accounts.services whichever way staff
reach them (the add form, the Active checkbox or the list actions), so the welcome and
reactivation e-mails, the deactivation reason and the inactivity clock are always right.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Partner, User


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "tier",
        "allows_reseller",
        "allows_referral",
        "home_country",
        "designated_ae",
        "is_active",
    )
    list_filter = ("tier", "allows_reseller", "allows_referral", "home_country", "is_active")
    search_fields = ("name",)
    autocomplete_fields = ("designated_ae",)
    actions = ("pause", "resume")

    def save_model(
        self, request: HttpRequest, obj: Partner, form: forms.ModelForm[Partner], change: bool
    ) -> None:
        status_changed = change and "is_active" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.set_partner_active(partner=obj, active=obj.is_active)

    @admin.action(description=_("Pause (its users are signed out and can do nothing)"))
    def pause(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        count = 0
        for partner in queryset.filter(is_active=True):
            services.set_partner_active(partner=partner, active=False)
            count += 1
        self.message_user(
            request,
            ngettext("%d partner paused.", "%d partners paused.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume"))
    def resume(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        count = 0
        for partner in queryset.filter(is_active=False):
            services.set_partner_active(partner=partner, active=True)
            count += 1
        self.message_user(
            request,
            ngettext("%d partner resumed.", "%d partners resumed.", count) % count,
            messages.SUCCESS,
        )


class InviteUserForm(forms.ModelForm):
    """The add form: what an invitation needs; invite_user does the rest."""

    class Meta:
        model = User
        fields = ("email", "full_name", "partner", "login_mode", "is_staff")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = (
        "email",
        "full_name",
        "partner",
        "login_mode",
        "is_active",
        "deactivation_reason",
        "last_login",
        "is_staff",
    )
    list_filter = (
        "partner",
        "login_mode",
        "is_active",
        "deactivation_reason",
        "last_login",
        "is_staff",
    )
    list_select_related = ("partner",)
    search_fields = ("email", "full_name", "partner__name")
    readonly_fields = (
        "deactivation_reason",  # set by the services behind the Active checkbox and actions
        "last_login",
        "date_joined",
        "deactivated_at",
        "reactivated_at",
        "invited_at",
        "inactivity_warning_sent_at",
    )
    fieldsets = (
        (None, {"fields": ("email", "full_name", "partner", "login_mode")}),
        (
            _("Status"),
            {
                "fields": (
                    "is_active",
                    "deactivation_reason",
                    "deactivated_at",
                    "reactivated_at",
                    "invited_at",
                    "inactivity_warning_sent_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
        (_("Staff"), {"fields": ("is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = (
        (None, {"fields": ("email", "full_name", "partner", "login_mode", "is_staff")}),
    )
    add_form = InviteUserForm
    filter_horizontal = ("groups",)
    actions = ("reactivate", "block", "send_welcome")

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm[User], change: bool
    ) -> None:
        if not change:
            self._invite(obj)
            return
        status_changed = "is_active" in form.changed_data
        if status_changed:
            obj.is_active = not obj.is_active  # the services below change it, with the rest
        super().save_model(request, obj, form, change)
        if status_changed and form.cleaned_data["is_active"]:
            services.reactivate_user(user=obj)
        elif status_changed:
            services.block_user(user=obj)

    def _invite(self, obj: User) -> None:
        """New users come in through the invitation service, which sends the welcome e-mail."""
        created = services.invite_user(
            email=obj.email,
            partner=obj.partner,
            full_name=obj.full_name,
            login_mode=obj.login_mode,
            is_staff=obj.is_staff,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(description=_("Reactivate (restarts the 35-day clock, e-mails the user)"))
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.filter(is_active=False):
            services.reactivate_user(user=user)
            count += 1
        self.message_user(
            request,
            ngettext("%d user reactivated.", "%d users reactivated.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Block (the user must contact support)"))
    def block(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.exclude(pk=request.user.pk):
            services.block_user(user=user)
            count += 1
        self.message_user(
            request,
            ngettext("%d user blocked.", "%d users blocked.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Resend the welcome e-mail"))
    def send_welcome(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.filter(is_active=True):
            services.send_welcome(user)
            count += 1
        self.message_user(
            request,
            ngettext("%d welcome e-mail sent.", "%d welcome e-mails sent.", count) % count,
            messages.SUCCESS,
        )
