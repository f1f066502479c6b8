"""Pages that belong to no feature: the health check and the error pages."""

from celery import current_app as celery_app
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from core import outbox


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("healthz", "ok", 5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was stored")


def _check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            results[name] = f"error: {exc.__class__.__name__}"
    waiting = _outbox_backlog(results)
    healthy = all(value == "ok" for value in results.values())
    if settings.CELERY_TASK_ALWAYS_EAGER:
        results["broker"] = "eager"
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results, "outbox": waiting},
        status=200 if healthy else 503,
    )


def _outbox_backlog(results: dict[str, str]) -> dict[str, int]:
    """The recorded tasks still waiting for the broker; failing once the oldest is stale."""
    try:
        found = outbox.backlog()
    except Exception as exc:  # noqa: BLE001 - the database check above says why
        results["outbox"] = f"error: {exc.__class__.__name__}"
        return {}
    results["outbox"] = (
        f"error: {found.pending} waiting for {found.oldest_seconds} s" if found.stale else "ok"
    )
    return {"pending": found.pending, "oldest_seconds": found.oldest_seconds}


# What each error page says: (title, message).
ERROR_PAGES = {
    400: (_("Bad request"), _("We could not understand that request.")),
    403: (_("Access denied"), _("You do not have access to this page.")),
    404: (
        _("Page not found"),
        _("We could not find that page. It may have moved, or it belongs to another account."),
    ),
    500: (_("Something went wrong"), _("An error occurred on our side. We have been notified.")),
    503: (
        _("Please try again in a minute"),
        _("Part of the service is briefly unavailable. Nothing was changed; try again shortly."),
    ),
}


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    """The one error page: what happened, the request's reference and "Report a problem".

    Drawn without the request's context processors: it must not touch the session, the user
    or the cache, since the error may be that one of them is down. A user already loaded by
    the page that failed is shown as signed in; any other sees the signed-out header.
    """
    title, message = ERROR_PAGES[status]
    user = getattr(request, "_cached_user", None)  # set by auth only once it was read
    context = {
        "status": status,
        "title": title,
        "message": message,
        "request_id": getattr(request, "request_id", ""),
        "page_path": request.path,
        "support_email": settings.SUPPORT_EMAIL,
        "user": user if user is not None and user.is_authenticated else AnonymousUser(),
        "current_partner": getattr(user, "partner", None) if user else None,
        "csrf_token": get_token(request),  # from the cookie: the sign-out button still works
    }
    content = render_to_string("error.html", context)
    return HttpResponse(content, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    return error_page(request, 503)
