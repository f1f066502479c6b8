"""The language switcher: Django's set_language, which also keeps the choice on the account."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.i18n import set_language as django_set_language

from accounts import services
from accounts.models import Language, User

_LANGUAGES = frozenset(Language.values)  # the same as settings.LANGUAGES (a test says so)


def set_language(request: HttpRequest) -> HttpResponse:
    """Set the language cookie (Django's view: a safe `next` only) and save it for the user.

    A language the hub does not speak, or none, changes nothing, on the account or in the
    cookie.
    """
    language = request.POST.get("language", "")
    response = django_set_language(request)
    if language not in _LANGUAGES:
        # Django sets the cookie for any language it has files for (fr, de, …): not ours.
        response.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    user = getattr(request, "user", None)
    if (
        request.method == "POST"
        and language in _LANGUAGES
        and isinstance(user, User)
        and user.is_authenticated
    ):
        services.save_language(user, language)
    return response
