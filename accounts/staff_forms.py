"""The staff sign-in form of the admin and the form that confirms an authenticator app.

Every way a sign-in can fail — unknown address, wrong password, right password without the
right code, an account that is not staff — gets the same page with the same message, after
the same work: one password hash (one authentication backend; allauth's hashes a dummy
password for an unknown address). Failures count against allauth's `login_failed` limits, per
address and per IP, on the shared cache, the same counters as the partner sign-in.
"""

from __future__ import annotations

from typing import Any, NoReturn

from allauth.account.adapter import get_adapter
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import second_factor
from accounts.models import User

SIGN_IN_REFUSED = _(
    "The e-mail address, password or code is not right for a staff account. "
    "Check them and try again."
)


class StaffLoginForm(AdminAuthenticationForm):
    """username (the e-mail), password, otp_device and otp_token (DESIGN §8)."""

    # The same two choices for everyone (listing one's devices would confirm the password);
    # a device's persistent ID, as django-otp's own form sends, is accepted as well.
    otp_device = forms.CharField(
        label=_("Second factor"),
        required=False,
        max_length=200,
        widget=forms.Select(
            choices=[
                (second_factor.APP, _("Code from the authenticator app")),
                (second_factor.BACKUP, _("Backup code")),
            ]
        ),
    )
    otp_token = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": SIGN_IN_REFUSED,
        "inactive": SIGN_IN_REFUSED,
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        if not settings.ADMIN_REQUIRE_OTP:
            del self.fields["otp_device"], self.fields["otp_token"]

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password") or ""
        if not email or not password:
            return self.cleaned_data
        assert self.request is not None  # noqa: S101 - the admin always passes it
        adapter = get_adapter(self.request)
        user = adapter.authenticate(self.request, email=email, password=password)  # may raise
        if user is None:
            raise self.get_invalid_login_error()  # counted by allauth already
        if not isinstance(user, User) or not user.is_active or not user.is_staff:
            self._refuse(adapter, email)
        if settings.ADMIN_REQUIRE_OTP and second_factor.is_enrolled(user):
            device = second_factor.verify_code(
                user,
                choice=self.cleaned_data.get("otp_device") or "",
                token=self.cleaned_data.get("otp_token") or "",
            )
            if device is None:
                self._refuse(adapter, email)
            user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session
        # Without a second factor yet, the member is signed in but the admin stays shut: the
        # site leads them to set one up (HubAdminSite.login).
        self.user_cache = user
        return self.cleaned_data

    def _refuse(self, adapter: Any, email: str) -> NoReturn:
        """The password was right but the sign-in fails: count it like a wrong password."""
        try:
            adapter.pre_authenticate(self.request, email=email)
        except ValidationError:
            pass
        raise self.get_invalid_login_error()

    def confirm_login_allowed(self, user: Any) -> None:
        """Checked in clean(), with the one message for every refusal."""


class ConfirmAppForm(forms.Form):
    otp_token = forms.CharField(
        label=_("The 6-digit code the app shows now"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
