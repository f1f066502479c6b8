"""The signed-in user's language and time zone, for every page they see."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from accounts.models import User


class UserLocaleMiddleware:
    """Activate the signed-in user's saved language and time zone.

    Sits after LocaleMiddleware (which has applied the switcher's cookie, else the browser's
    Accept-Language, else English) and after authentication: a language saved on the account
    wins over both. The browser's cookie follows the account, so the pages stay in the user's
    language after they sign out. Anonymous visitors keep what LocaleMiddleware chose, and UTC.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = ""
        if isinstance(user, User) and user.is_authenticated:
            language = user.language
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
            timezone.activate(_zone(user.preferred_time_zone))
        else:
            timezone.deactivate()
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            _remember(response, language)
        return response


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _remember(response: HttpResponse, language: str) -> None:
    """The switcher's cookie, as Django's set_language writes it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
