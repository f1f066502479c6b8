"""Request forms: field-level parsing and messages (the rules themselves live in services)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner
from eligibility.decision import ProductLine
from requests_app.conversation import message_refusal
from requests_app.models import (
    EMPLOYEE_COUNT_MAX,
    MESSAGE_MAX_LENGTH,
    PHONE_MAX_DIGITS,
    PHONE_MIN_DIGITS,
    parse_employee_count,
    validate_contact_phone,
)

COMPANY_NAME_MAX_LENGTH = 255
TAX_ID_MAX_LENGTH = 64
MISSING_COMPANY = _(
    "The company details are missing or damaged. Check the company again and start the "
    "request from the result."
)


class EmployeeCountField(forms.CharField):
    """Digits only: 0, negative, decimal, huge or non-numeric counts are refused."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        return attrs

    def clean(self, value: Any) -> int:
        value = super().clean(value)
        return parse_employee_count(value)


class CompanyFieldsMixin(forms.Form):
    """The checked company, carried from the eligibility result in hidden fields."""

    country = forms.CharField(max_length=8, widget=forms.HiddenInput)
    tax_id = forms.CharField(max_length=TAX_ID_MAX_LENGTH, widget=forms.HiddenInput)
    company_name = forms.CharField(
        max_length=COMPANY_NAME_MAX_LENGTH, required=False, widget=forms.HiddenInput
    )

    # The company fields the partner does not type (an error in one means a damaged link).
    carried_fields: tuple[str, ...] = ("country", "tax_id", "company_name")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if any(name in self.errors for name in self.carried_fields):
            raise ValidationError(MISSING_COMPANY, code="missing_company")
        return cleaned

    def company_values(self) -> dict[str, str]:
        """What was posted for the company (shown back even when the form is invalid)."""
        data = self.data if self.is_bound else self.initial
        return {
            "country": str(data.get("country", ""))[:8].strip().upper(),
            "tax_id": str(data.get("tax_id", ""))[:TAX_ID_MAX_LENGTH],
            "company_name": str(data.get("company_name", ""))[:COMPANY_NAME_MAX_LENGTH],
        }


def _offer_business_models(form: forms.Form, choices: list[tuple[str, str]]) -> None:
    """The business models to choose from; the only one is chosen already."""
    field = cast(forms.ChoiceField, form.fields["business_model"])
    field.choices = choices
    if len(choices) == 1:
        field.initial = choices[0][0]


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.CheckboxSelectMultiple):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class LaunchForm(CompanyFieldsMixin):
    # Pre-filled from the registry's legal name or the name typed on the check; the partner
    # types it when neither exists (a new company).
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=COMPANY_NAME_MAX_LENGTH,
        error_messages={"required": _("Enter the company's name.")},
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    contact_name = forms.CharField(
        label=_("Contact name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_email = forms.EmailField(
        label=_("Contact e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=32,
        validators=[validate_contact_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    employee_count = EmployeeCountField(label=_("Number of employees"))
    business_model = forms.ChoiceField(label=_("Business model"))

    carried_fields = ("country", "tax_id")
    field_order = [
        "company_name",
        "contact_name",
        "contact_email",
        "contact_phone",
        "employee_count",
        "business_model",
    ]

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_phone"].help_text = gettext(
            "%(min)d to %(max)d digits, e.g. +55 11 91234-5678."
        ) % {"min": PHONE_MIN_DIGITS, "max": PHONE_MAX_DIGITS}
        self.fields["employee_count"].help_text = gettext("A whole number from 1 to %(max)s.") % {
            "max": number_format(EMPLOYEE_COUNT_MAX, force_grouping=True)
        }
        _offer_business_models(self, partner.business_model_choices())
        _style(self)

    def clean_company_name(self) -> str:
        name = " ".join(str(self.cleaned_data.get("company_name", "")).split())
        if not name:
            raise ValidationError(self.fields["company_name"].error_messages["required"])
        return name


class FollowupForm(CompanyFieldsMixin):
    """Upsell and payment takeover: which products, under which business model."""

    products = forms.MultipleChoiceField(
        label=_("Products"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one product."),
            "invalid_choice": _("“%(value)s” cannot be requested for this company."),
        },
    )
    business_model = forms.ChoiceField(label=_("Business model"))

    field_order = ["products", "business_model"]

    def __init__(
        self,
        *args: Any,
        products: Sequence[ProductLine],
        business_models: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        products_field = cast(forms.MultipleChoiceField, self.fields["products"])
        products_field.choices = [(product.code, product.name) for product in products]
        _offer_business_models(self, business_models)
        _style(self)


class MessageForm(forms.Form):
    """A message to the account executive on the request page (plain text)."""

    message = forms.CharField(
        label=_("Message to your account executive"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["message"].help_text = gettext(
            "Plain text, at most %(max)d characters. Wellhub answers here and by e-mail."
        ) % {"max": MESSAGE_MAX_LENGTH}
        _style(self)

    def clean_message(self) -> str:
        text = str(self.cleaned_data.get("message", ""))
        refusal = message_refusal(text)
        if refusal:
            raise ValidationError(refusal, code="message")
        return text
