"""Authentication backends that load the user's partner with the user.

Nearly every page reads `request.user.partner`; fetching both in one query saves a query on
every request.
"""

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class _WithPartner(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = User.objects.select_related("partner").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class PartnerModelBackend(_WithPartner, ModelBackend):
    pass


class PartnerAuthenticationBackend(_WithPartner, AllauthBackend):
    pass
