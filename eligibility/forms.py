"""Input parsing for the single eligibility check."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from eligibility.taxid import MAX_INPUT_LENGTH, country_choices

COMPANY_NAME_MAX_LENGTH = 255


class CheckForm(forms.Form):
    """Country, Tax ID and an optional company name.

    Whether the Tax ID is valid for the country (and whether the country is supported) is the
    Tax ID module's rule, so it is answered as an `invalid` result, not as a form error here.
    The form only keeps out what cannot be a Tax ID check at all (text that cannot be stored).
    """

    country = forms.CharField(label=_("Country"), required=False, max_length=8)
    tax_id = forms.CharField(label=_("Tax ID"), required=False, strip=True)
    company_name = forms.CharField(
        label=_("Company name (optional)"),
        required=False,
        max_length=COMPANY_NAME_MAX_LENGTH,
        help_text=_("Helps you recognise the company in your check history and requests."),
    )

    max_tax_id_length = MAX_INPUT_LENGTH

    def __init__(self, *args, home_country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.home_country = home_country
        self.countries = country_choices()

    def clean_country(self) -> str:
        # An empty country means the partner's home country, as in the bulk template.
        return (self.cleaned_data.get("country") or "").strip().upper() or self.home_country
