"""The authentication backend: allauth's, loading the user's partner with the user.

Nearly every page reads `request.user.partner`; fetching both in one query saves a query on
every request. It is the only backend (config/settings.py), so a sign-in costs one password
hash whatever the outcome: allauth's backend hashes a dummy password for an unknown address.
"""

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from accounts.models import User


class PartnerAuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = User.objects.select_related("partner").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
