"""Absolute links for messages read outside the site (e-mails): the site's address + a path.

Not a URLconf: the project's routes are in config/urls.py and each app's urls.py.
"""

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (as reverse() or get_absolute_url() gives it) on the site's public address."""
    return f"{settings.SITE_URL}{path}"
