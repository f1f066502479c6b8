from datetime import date

from django import template
from django.conf import settings
from django.utils.formats import date_format

register = template.Library()


@register.simple_tag
def support_email() -> str:
    return settings.SUPPORT_EMAIL


@register.filter
def weekday_date(value: date | None) -> str:
    """The day of the week and the date in the language's format: "Monday, Dec. 7, 2026"."""
    if not value:
        return ""
    return f"{date_format(value, 'l')}, {date_format(value, 'DATE_FORMAT')}"
