"""allauth adapter: sign-up is closed; accounts are created by invitation only.

allauth's own e-mails (sign-in code, password reset) go out in the user's language and zone.
Staff have no partner pages: signing in at /accounts/login/ sends them to the admin, which
asks for their second factor (or leads them to set one up).
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.second_factor import is_enrolled


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        """Sign in, then speak the user's saved language for the rest of this request.

        The "signed in" message is worded right after this, before the next page applies it.
        """
        super().login(request, user)
        if isinstance(user, User) and user.language:
            translation.activate(user.language)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        user = context.get("user")
        if not isinstance(user, User):
            user = User.objects.filter(email__iexact=email).select_related("partner").first()
        if user is None:  # an unknown address: the language the page was shown in
            super().send_mail(template_prefix, email, context)
            return
        with (
            translation.override(user.preferred_language),
            timezone.override(zoneinfo.ZoneInfo(user.preferred_time_zone)),
        ):
            super().send_mail(template_prefix, email, context)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if isinstance(user, User) and user.is_staff:
            first_time = settings.ADMIN_REQUIRE_OTP and not is_enrolled(user)
            return reverse("admin:otp_enrol" if first_time else "admin:index")
        url: str = super().get_login_redirect_url(request)
        return url
