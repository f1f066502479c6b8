"""Export formats of the registry and the check log for the admin (django-import-export).

Companies are exported in the columns of `manage.py import_companies`, so an exported file can
be imported again; importing a registry file is a background job with the command's rules
(eligibility.import_jobs), not a django-import-export import. Products, a short list, are
still imported and exported here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from import_export import fields, resources

from core.csvfiles import spreadsheet_safe
from eligibility import registry_rows
from eligibility.models import Company, EligibilityCheck, Product


class CompanyResource(resources.ModelResource):
    """Export: one row per company, in the columns `manage.py import_companies` reads, so an
    exported file can be imported again (files are imported by a job: eligibility.import_jobs).
    """

    products = fields.Field(column_name="products")
    paid_by = fields.Field(column_name="paid_by")

    class Meta:
        model = Company
        fields = registry_rows.COLUMNS
        export_order = registry_rows.COLUMNS

    def filter_export(self, queryset: QuerySet[Company], **kwargs: Any) -> QuerySet[Company]:
        return queryset.prefetch_related("subscriptions__product", "subscriptions__paid_by_partner")

    def dehydrate_products(self, company: Company) -> str:
        codes = sorted(sub.product.code for sub in company.subscriptions.all())
        return registry_rows.PRODUCT_SEPARATOR.join(codes)

    def dehydrate_paid_by(self, company: Company) -> str:
        payers = {sub.paid_by_partner for sub in company.subscriptions.all()}
        if not payers:
            return ""
        partners = sorted(p.name for p in payers if p is not None)
        # One column holds one payer; a partner paying for any product is the one to keep.
        return partners[0] if partners else registry_rows.PAID_BY_CLIENT


class ProductResource(resources.ModelResource):
    class Meta:
        model = Product
        fields = ("code", "name", "is_active")
        export_order = ("code", "name", "is_active")
        import_id_fields = ("code",)
        clean_model_instances = True


class EligibilityCheckResource(resources.ModelResource):
    """The check log as staff read it; partner-typed text is made safe for spreadsheets."""

    user = fields.Field(attribute="user__email", column_name="user")
    partner = fields.Field(attribute="partner__name", column_name="partner")

    class Meta:
        model = EligibilityCheck
        fields = (
            "created_at",
            "user",
            "partner",
            "source",
            "country",
            "raw_input",
            "company_name",
            "tax_id",
            "result",
            "reason",
            "bulk_job",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[EligibilityCheck], **kwargs: Any
    ) -> QuerySet[EligibilityCheck]:
        return queryset.select_related("user", "partner")

    def export_field(self, field: Any, instance: EligibilityCheck, **kwargs: Any) -> object:
        value = super().export_field(field, instance, **kwargs)
        return spreadsheet_safe(value) if isinstance(value, str) else value
