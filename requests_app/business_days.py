"""Business days of a country: weekends and that country's public holidays are not counted."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from dateutil.easter import easter  # type: ignore[import-untyped]

SATURDAY = 5


def _brazil_carnival(year: int) -> set[date]:
    # Carnival Monday and Tuesday: "optional" in the law, but business stops nationwide.
    sunday = easter(year)
    return {sunday - timedelta(days=48), sunday - timedelta(days=47)}


EXTRA_CLOSED_DAYS = {"BR": _brazil_carnival}


@lru_cache(maxsize=256)
def closed_days(country: str, year: int) -> frozenset[date]:
    """Public holidays of ``country`` in ``year`` (empty for a country the library lacks)."""
    country = country.upper()
    try:
        days = set(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:
        days = set()
    extra = EXTRA_CLOSED_DAYS.get(country)
    if extra is not None:
        days |= extra(year)
    return frozenset(days)


def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < SATURDAY and day not in closed_days(country, day.year)


def add_business_days(start: date, days: int, country: str) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if is_business_day(current, country):
            counted += 1
    return current
