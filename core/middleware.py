"""Request IDs (in the X-Request-ID header, every log line and the error pages), session
limits, private caching of signed-in pages, and htmx redirects."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.log import log_response
from django_htmx.http import HttpResponseClientRedirect
from redis.exceptions import RedisError

from core.logging import current_request_id
from core.views import error_page

logger = logging.getLogger(__name__)

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIDMiddleware:
    """Reuse a well-formed incoming X-Request-ID (from the proxy), else make one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        # Read back with getattr (pages, error views): HttpRequest declares no such attribute.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                # Django logs 4xx/5xx answers after the middleware has returned, when the
                # request's ID is gone; log them here, while it is set (Django then skips them).
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class PrivatePagesMiddleware:
    """`Cache-Control: no-store, private` on every answer to a signed-in user (pages and
    downloads alike), so no proxy or shared browser cache keeps a partner's data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class SessionTimeoutMiddleware:
    """End a session left idle longer than SESSION_IDLE_TIMEOUT, or older than SESSION_COOKIE_AGE.

    Django's own expiry slides forward each time the session is saved, so neither limit exists
    out of the box; both are a few lines on top of the session.
    """

    last_seen_key = "_last_seen"
    started_key = "_started"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault(self.started_key, now)
            last_seen = session.get(self.last_seen_key)
            idle_too_long = (
                last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT
            )
            if idle_too_long or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
            elif last_seen is None or now - last_seen > 60:
                # Write at most once a minute, so a busy page does not save the session each hit.
                session[self.last_seen_key] = now
        return self.get_response(request)


class HtmxRedirectMiddleware:
    """Turn a redirect answering an htmx request into a full-page navigation.

    The browser follows a plain redirect inside the htmx request and the page it lands on (the
    sign-in page when the session has ended) would be swapped into a fragment. django-htmx's
    client redirect makes htmx navigate the whole window there instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        location = response.headers.get("Location")
        if not (getattr(request, "htmx", False) and 300 <= response.status_code < 400 and location):
            return response
        redirect = HttpResponseClientRedirect(location)
        # Keep what the redirect carried: its cookies (a signed-out session's deleted cookie)
        # and the headers the other middleware added (CSP, frame options, Vary).
        for header, value in response.items():
            if header.lower() not in {"location", "content-length", "content-type"}:
                redirect.headers[header] = value
        redirect.cookies = response.cookies
        return redirect


class CacheDownMiddleware:
    """A page that needs the cache while it is down answers "try again in a minute" (503).

    The cache holds the rate limits (sign-in, codes, password reset, support reports); when it
    cannot be reached they fail closed, never open: the attempt is refused, nothing is
    recorded, and the page carries the request's reference like every error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RedisError):
            return None
        logger.error("The cache is unreachable: %s", exception, exc_info=exception)
        return error_page(request, 503)
