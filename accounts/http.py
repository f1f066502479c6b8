"""Request types for views that require a signed-in user."""

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """An HttpRequest behind login_required: `user` is our User, never AnonymousUser.

    For type checkers only; Django still passes a plain HttpRequest at run time.
    """

    user: User
