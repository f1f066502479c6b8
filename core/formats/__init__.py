"""One date and one date-and-time format per language (settings.FORMAT_MODULE_PATH).

Django's own locale formats give a page several shapes of date (DATE_FORMAT, SHORT_DATE_FORMAT,
DATETIME_FORMAT…); the hub shows every date of a language the same way.
"""
