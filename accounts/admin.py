"""Support's screens for partners and users.

Creating a user, reactivating and blocking go through accounts.services (the add form and the
list actions), so the welcome and reactivation e-mails, the deactivation reason and the
inactivity clock are always right. The form has no "Active" box: the actions are the way.
Staff accounts (and their roles) are a superuser's business: other members see partner users.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Partner, User
from accounts.roles import AE_GROUP
from accounts.staff_admin import Panel, PermittedActionsMixin, register_panel

RECENTLY_DEACTIVATED_DAYS = 14


class PersonChoiceField(forms.ModelChoiceField):
    """A staff member by name, with the e-mail to tell two of the same name apart."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


def _set_partners_active(partners: QuerySet[Partner], *, active: bool) -> int:
    """Pause or resume the partners not already so; how many changed."""
    changing = list(partners.filter(is_active=not active))
    for partner in changing:
        services.set_partner_active(partner=partner, active=active)
    return len(changing)


@admin.register(Partner)
class PartnerAdmin(PermittedActionsMixin, admin.ModelAdmin):
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
    list_select_related = ("designated_ae",)
    search_fields = ("name",)
    actions = ("pause", "resume")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "designated_ae":
            kwargs["form_class"] = PersonChoiceField
            kwargs["queryset"] = User.objects.filter(
                is_active=True, is_staff=True, groups__name=AE_GROUP
            ).order_by("full_name", "email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Partner, form: forms.ModelForm[Partner], change: bool
    ) -> None:
        status_changed = change and "is_active" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.set_partner_active(partner=obj, active=obj.is_active)

    @admin.action(
        description=_("Pause (its users are signed out and can do nothing)"),
        permissions=["change"],
    )
    def pause(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        count = _set_partners_active(queryset, active=False)
        self.message_user(
            request,
            ngettext("%d partner paused.", "%d partners paused.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        count = _set_partners_active(queryset, active=True)
        self.message_user(
            request,
            ngettext("%d partner resumed.", "%d partners resumed.", count) % count,
            messages.SUCCESS,
        )


class InviteUserForm(forms.ModelForm):
    """The add form: what an invitation needs; invite_user does the rest."""

    class Meta:
        model = User
        fields: tuple[str, ...] = ("email", "full_name", "partner", "login_mode", "language")


class SuperuserInviteForm(InviteUserForm):
    class Meta(InviteUserForm.Meta):
        fields = ("email", "full_name", "partner", "login_mode", "language", "is_staff")


@admin.register(User)
class UserAdmin(PermittedActionsMixin, DjangoUserAdmin):
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
        "deactivated_at",
        "is_staff",
    )
    list_select_related = ("partner",)
    search_fields = ("email", "full_name", "partner__name")
    readonly_fields = (
        "is_active",  # changed by the actions only: Reactivate and Block
        "deactivation_reason",
        "last_login",
        "date_joined",
        "deactivated_at",
        "reactivated_at",
        "invited_at",
        "inactivity_warning_sent_at",
    )
    status_fieldset: Any = (
        _("Status (change it with the actions Reactivate and Block on the user list)"),
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
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "email",
                    "full_name",
                    "partner",
                    "login_mode",
                    "language",
                    "time_zone",
                )
            },
        ),
        status_fieldset,
    )
    superuser_fieldsets = (
        *fieldsets,
        (_("Staff"), {"fields": ("is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = (
        (None, {"fields": ("email", "full_name", "partner", "login_mode", "language")}),
    )
    add_form = InviteUserForm
    filter_horizontal = ("groups",)
    actions = ("reactivate", "block", "send_welcome")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(is_staff=False, is_superuser=False)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None:
            if request.user.is_superuser:
                return ((None, {"fields": SuperuserInviteForm.Meta.fields}),)
            return self.add_fieldsets
        return self.superuser_fieldsets if request.user.is_superuser else self.fieldsets

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None and request.user.is_superuser:
            kwargs["form"] = SuperuserInviteForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm[User], change: bool
    ) -> None:
        if not change:
            self._invite(obj)
            return
        super().save_model(request, obj, form, change)

    def _invite(self, obj: User) -> None:
        """New users come in through the invitation service, which sends the welcome e-mail."""
        created = services.invite_user(
            email=obj.email,
            partner=obj.partner,
            full_name=obj.full_name,
            login_mode=obj.login_mode,
            is_staff=obj.is_staff,
            language=obj.language,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(
        description=_("Reactivate (restarts the 35-day clock, e-mails the user)"),
        permissions=["change"],
    )
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

    @admin.action(description=_("Block (the user must contact support)"), permissions=["change"])
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

    @admin.action(description=_("Resend the welcome e-mail"), permissions=["change"])
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


def _recently_deactivated(user: User) -> int:
    return services.recently_deactivated_users(days=RECENTLY_DEACTIVATED_DAYS).count()


def _recently_deactivated_url(user: User) -> str:
    since = services.recently_deactivated_since(days=RECENTLY_DEACTIVATED_DAYS)
    query = urlencode({"is_active__exact": 0, "deactivated_at__gte": since.isoformat()})
    return f"{reverse('admin:accounts_user_changelist')}?{query}"


register_panel(
    Panel(
        key="recently-deactivated",
        title=_("Partner users deactivated in the last 14 days"),
        permission="accounts.change_user",
        count=_recently_deactivated,
        url=_recently_deactivated_url,
    )
)
