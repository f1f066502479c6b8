"""The request's change form in the admin: the allowed next statuses, a note, an answer."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from requests_app.admin_conversation import answer_field, clean_answer
from requests_app.models import SYSTEM_ONLY_STATUSES, PartnerRequest, RequestStatus


class PartnerRequestAdminForm(forms.ModelForm):
    note = forms.CharField(
        label=_("Note for the status change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the history and sent to the partner with the new status."),
    )
    answer = answer_field()

    class Meta:
        model = PartnerRequest
        fields = ("status", "assigned_ae")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "status" in self.fields and self.instance.pk:
            allowed = self.instance.next_statuses() - SYSTEM_ONLY_STATUSES
            current = self.instance.status
            cast(forms.ChoiceField, self.fields["status"]).choices = [
                (value, label)
                for value, label in RequestStatus.choices
                if value == current or value in allowed
            ]
        if "assigned_ae" in self.fields:
            ae_field = cast("forms.ModelChoiceField[User]", self.fields["assigned_ae"])
            staff = ae_field.queryset if ae_field.queryset is not None else User.objects.all()
            ae_field.queryset = staff.filter(is_active=True, is_staff=True)

    def clean_answer(self) -> str:
        return clean_answer(self.cleaned_data.get("answer", ""))

    def clean_status(self) -> str:
        status: str = self.cleaned_data["status"]
        if status != self.initial.get("status") and status not in (
            self.instance.next_statuses() - SYSTEM_ONLY_STATUSES
        ):
            raise ValidationError(_("This status change is not allowed."))
        return status
