"""allauth form hooks that enforce each user's login mode."""

from typing import Any

from allauth.account.forms import LoginForm, RequestLoginCodeForm, ResetPasswordForm
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class PartnerLoginForm(LoginForm):
    """A password never signs a `token` user in."""

    def clean(self) -> dict[str, Any]:
        cleaned_data: dict[str, Any] = super().clean()
        user = getattr(self, "user", None)
        if user is not None and user.login_mode == User.LoginMode.TOKEN:
            self.user = None
            raise forms.ValidationError(
                _("This account signs in with a code sent by e-mail: use “Send me a sign-in code”.")
            )
        return cleaned_data


def _label_email_field(form: forms.Form) -> None:
    """allauth words its e-mail field once, at import, in English: word it per request."""
    form.fields["email"].label = _("E-mail")


class PartnerResetPasswordForm(ResetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _label_email_field(self)


class PartnerRequestLoginCodeForm(RequestLoginCodeForm):
    """Only `token` users get a code; anyone else sees the same page and receives none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _label_email_field(self)

    def clean_email(self) -> str:
        email: str = super().clean_email()
        user = getattr(self, "_user", None)
        if user is not None and user.login_mode != User.LoginMode.TOKEN:
            self._user = None
        return email
