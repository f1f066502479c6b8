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
    }
