"""allauth adapter: sign-up is closed; accounts are created by invitation only.

Staff have no partner pages: signing in at /accounts/login/ sends them to the admin, which
asks for their second factor (or leads them to set one up).
"""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User
from accounts.second_factor import is_enrolled


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if isinstance(user, User) and user.is_staff:
            first_time = settings.ADMIN_REQUIRE_OTP and not is_enrolled(user)
            return reverse("admin:otp_enrol" if first_time else "admin:index")
        url: str = super().get_login_redirect_url(request)
        return url
