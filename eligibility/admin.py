"""Staff screens for the company registry and the eligibility check log."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportModelAdmin
from import_export.formats.base_formats import CSV

from accounts.staff_admin import PermittedActionsMixin
from core.countries import SUPPORTED_COUNTRIES
from eligibility.admin_imports import RegistryImportAdmin
from eligibility.models import Company, EligibilityCheck, Product, Subscription
from eligibility.resources import CompanyResource, EligibilityCheckResource, ProductResource
from eligibility.taxid import format_tax_id, validate_tax_id

_TAX_ID_SEPARATORS = re.compile(r"[\s.,/-]+")


class CountryFilter(admin.SimpleListFilter):
    """Supported countries as fixed choices (no DISTINCT scan over a large table)."""

    title = _("country")
    parameter_name = "country"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return sorted(((code, str(name)) for code, name in SUPPORTED_COUNTRIES.items()), key=str)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Company]) -> QuerySet[Company]:
        value = self.value()
        return queryset.filter(country=value) if value else queryset


class CompanyAdminForm(forms.ModelForm):
    """Staff type Tax IDs as they are written; the registry keeps the compact form."""

    class Meta:
        model = Company
        fields = ("country", "tax_id", "legal_name", "status")
        widgets = {"country": forms.Select(choices=sorted(SUPPORTED_COUNTRIES.items()))}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        validation = validate_tax_id(cleaned.get("country") or "", cleaned.get("tax_id") or "")
        if not validation.is_valid:
            field = "country" if validation.reason_code == "unsupported_country" else "tax_id"
            self.add_error(field, validation.message)
        else:
            cleaned["country"], cleaned["tax_id"] = validation.country, validation.compact
            self.instance.country, self.instance.tax_id = validation.country, validation.compact
        return cleaned


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ("product", "paid_by_partner", "business_model", "created_at")
    autocomplete_fields = ("product", "paid_by_partner")


@admin.register(Company)
class CompanyAdmin(PermittedActionsMixin, ExportMixin, admin.ModelAdmin):
    """Companies are exported with django-import-export and edited one by one here; files are
    imported by a background job (RegistryImportAdmin), with the rules of import_companies."""

    import_export_change_list_template = "admin/eligibility/company/change_list.html"
    form = CompanyAdminForm
    resource_classes = [CompanyResource]
    formats = [CSV]
    list_display = ("formatted_tax_id", "legal_name", "country", "status", "updated_at")
    list_filter = (CountryFilter, "status")
    search_fields = ("tax_id", "legal_name")
    readonly_fields = ("root", "created_at", "updated_at")
    inlines = [SubscriptionInline]
    show_full_result_count = False

    @admin.display(description=_("Tax ID"), ordering="tax_id")
    def formatted_tax_id(self, obj: Company) -> str:
        return format_tax_id(obj.country, obj.tax_id)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        context = dict(extra_context or {})
        if RegistryImportAdmin.may_upload(request):
            context["registry_import_url"] = reverse("admin:eligibility_registryimport_add")
        return super().changelist_view(request, extra_context=context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Company], search_term: str
    ) -> tuple[QuerySet[Company], bool]:
        # "11.222.333/0001-81" finds the company stored as 11222333000181.
        compact = _TAX_ID_SEPARATORS.sub("", search_term).upper()
        if compact and compact != search_term:
            matches = queryset.filter(tax_id__startswith=compact)
            results, may_have_duplicates = super().get_search_results(
                request, queryset, search_term
            )
            return results | matches, may_have_duplicates
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return results, may_have_duplicates


@admin.register(Product)
class ProductAdmin(PermittedActionsMixin, ImportExportModelAdmin):
    resource_classes = [ProductResource]
    formats = [CSV]
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


class PaidByFilter(admin.SimpleListFilter):
    title = _("paid by")
    parameter_name = "paid_by"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, Any]]:
        return [("client", _("The client, directly")), ("partner", _("A partner"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Subscription]
    ) -> QuerySet[Subscription]:
        if self.value() == "client":
            return queryset.filter(paid_by_partner__isnull=True)
        if self.value() == "partner":
            return queryset.filter(paid_by_partner__isnull=False)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(PermittedActionsMixin, admin.ModelAdmin):
    list_display = ("company", "product", "paid_by_partner", "business_model", "created_at")
    list_filter = (PaidByFilter, "product", "business_model")
    list_select_related = ("company", "product", "paid_by_partner")
    search_fields = ("company__tax_id", "company__legal_name", "paid_by_partner__name")
    autocomplete_fields = ("company", "product", "paid_by_partner")
    show_full_result_count = False


@admin.register(EligibilityCheck)
class EligibilityCheckAdmin(PermittedActionsMixin, ExportMixin, admin.ModelAdmin):
    """The check log: who asked what, and what they were told. Read-only."""

    resource_classes = [EligibilityCheckResource]
    formats = [CSV]
    list_display = (
        "created_at",
        "user",
        "partner",
        "source",
        "country",
        "raw_input",
        "formatted_tax_id",
        "result",
        "reason",
    )
    list_filter = (
        "result",
        "source",
        "partner",
        CountryFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("user", "partner")
    search_fields = ("tax_id", "raw_input", "company_name", "user__email", "partner__name")
    show_full_result_count = False

    @admin.display(description=_("Tax ID"), ordering="tax_id")
    def formatted_tax_id(self, obj: EligibilityCheck) -> str:
        return format_tax_id(obj.country, obj.tax_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: EligibilityCheck | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: EligibilityCheck | None = None
    ) -> bool:
        return False
