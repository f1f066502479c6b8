"""allauth adapter: sign-up is closed; accounts are created by invitation only.

allauth's own e-mails (sign-in code, password reset) go out in the user's language and zone.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone, translation

from accounts.models import User


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
