"""What the partner's home page shows."""

from __future__ import annotations


def context_for(user) -> dict:
    return {"partner": user.partner}
