"""Support's screens for partners and users."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
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


class LastLoginFilter(admin.DateFieldListFilter):
    pass


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
        ("last_login", LastLoginFilter),
        "is_staff",
    )
    list_select_related = ("partner",)
    search_fields = ("email", "full_name", "partner__name")
    readonly_fields = (
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
    filter_horizontal = ("groups",)
    actions = ("reactivate", "block", "send_welcome")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            from django import forms

            class AddUserForm(forms.ModelForm):
                class Meta:
                    model = User
                    fields = ("email", "full_name", "partner", "login_mode", "is_staff")

            kwargs["form"] = AddUserForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # New users come in through the invitation service, which sends the welcome e-mail.
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
    def reactivate(self, request, queryset):
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
    def block(self, request, queryset):
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
    def send_welcome(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True):
            services.send_welcome(user)
            count += 1
        self.message_user(
            request,
            ngettext("%d welcome e-mail sent.", "%d welcome e-mails sent.", count) % count,
            messages.SUCCESS,
        )
