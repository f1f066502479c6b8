"""Import/export formats of the registry and the check log for the admin (django-import-export).

Companies use the same columns and the same row rules as `manage.py import_companies`, so a
file exported here can be loaded by the command and the other way round.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from import_export import fields, resources

from core.csvfiles import normalise_column, spreadsheet_safe
from eligibility import importer, registry_rows
from eligibility.models import Company, EligibilityCheck, Product


class CompanyResource(resources.ModelResource):
    """One row per company: country, tax_id, legal_name, status, products, paid_by."""

    products = fields.Field(column_name="products", readonly=False)
    paid_by = fields.Field(column_name="paid_by", readonly=False)

    class Meta:
        model = Company
        fields = registry_rows.COLUMNS
        export_order = registry_rows.COLUMNS
        import_id_fields = ("country", "tax_id")
        skip_diff = False
        use_bulk = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._catalog: registry_rows.Catalog | None = None
        self._parsed: dict[tuple[str, str], registry_rows.CompanyRow] = {}

    # --- import ---------------------------------------------------------------------------

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._catalog = registry_rows.Catalog.load()
        self._parsed = {}
        # Headers are matched like the command does: trimmed, in any case, `-` or space for `_`.
        if dataset.headers:
            dataset.headers = [normalise_column(name or "") for name in dataset.headers]
        missing = [name for name in registry_rows.COLUMNS if name not in (dataset.headers or [])]
        if missing:
            raise ValidationError(
                registry_rows.missing_columns_message(missing), code="missing_columns"
            )

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        line = (kwargs.get("row_number") or 0) + 1  # the header is line 1
        raw = {name: "" if row.get(name) is None else str(row.get(name)) for name in row}
        try:
            parsed = registry_rows.parse_row(raw, catalog=self._loaded_catalog(), line=line)
        except registry_rows.RowInvalid as invalid:
            errors = {
                (name if name in registry_rows.COLUMNS else NON_FIELD_ERRORS): messages
                for name, messages in invalid.errors.items()
            }
            raise ValidationError(errors) from invalid
        # The registry stores the compact form; the lookup must use it too.
        row.update(
            country=parsed.country,
            tax_id=parsed.tax_id,
            legal_name=parsed.legal_name,
            status=parsed.status,
        )
        self._parsed[parsed.key] = parsed

    def _loaded_catalog(self) -> registry_rows.Catalog:
        if self._catalog is None:  # rows validated outside an import (before_import not run)
            self._catalog = registry_rows.Catalog.load()
        return self._catalog

    def import_field(
        self, field: Any, instance: Company, row: Any, is_m2m: bool = False, **kwargs: Any
    ) -> None:
        if field.column_name in ("products", "paid_by"):
            return  # saved with the subscriptions, after the company
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def after_save_instance(self, instance: Company, row: Any, **kwargs: Any) -> None:
        parsed = self._parsed.get((instance.country, instance.tax_id))
        if parsed is not None:
            importer.save_subscriptions([(instance, parsed)])

    # --- export ---------------------------------------------------------------------------

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
