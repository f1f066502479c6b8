from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """What every page may show: the support address, the partner, the request ID."""
    user = getattr(request, "user", None)
    return {
        "support_email": settings.SUPPORT_EMAIL,
        "current_partner": getattr(user, "partner", None)
        if user and user.is_authenticated
        else None,
        "request_id": getattr(request, "request_id", ""),
        "nav_section": nav_section(request),
    }


def nav_section(request: HttpRequest) -> str:
    """The part of the site the page belongs to, for marking the menu (aria-current)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    return match.namespace or match.url_name or ""
