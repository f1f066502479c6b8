"""What the partner's home page shows, read through each app's selectors, for one partner.

Each panel is one query (counts are grouped in the database, lists are sliced), so the page
costs the same number of queries for a partner with two requests or two thousand.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from accounts.models import User
from bulk.selectors import recent_jobs
from eligibility.selectors import recent_checks
from requests_app.business_days import add_business_days
from requests_app.models import RequestStatus
from requests_app.selectors import (
    EXPIRY_WINDOW_DAYS,
    expiring_protections,
    pending_takeovers,
    request_counts,
)

RECENT_BULK_JOBS = 5
RECENT_CHECKS = 10
LIST_LIMIT = 20
# An answer due within this many business days needs the partner's attention.
ANSWER_DUE_BUSINESS_DAYS = 2


def context_for(user: User) -> dict[str, Any]:
    """The dashboard of the partner the user acts for; none for staff or a paused partner."""
    partner = user.active_partner
    if partner is None:
        # A paused partner's users see why, and none of its data (as on every partner page).
        return {"partner": None, "paused_partner": user.partner}
    counts = request_counts(partner)
    context = {
        "partner": partner,
        "request_counts": counts,
        "request_total": sum(item.count for item in counts),
        "expiry_window_days": EXPIRY_WINDOW_DAYS,
        "expiring": list(expiring_protections(partner)[:LIST_LIMIT]),
        "takeovers": list(pending_takeovers(partner)[:LIST_LIMIT]),
        "bulk_jobs": list(recent_jobs(partner)[:RECENT_BULK_JOBS]),
        "checks": list(recent_checks(partner)[:RECENT_CHECKS]),
    }
    due_by = add_business_days(timezone.localdate(), ANSWER_DUE_BUSINESS_DAYS, partner.home_country)
    context["attention"] = _attention(context, due_by=due_by)
    context["is_new_partner"] = not (
        context["request_total"] or context["bulk_jobs"] or context["checks"]
    )
    return context


def _attention(context: dict[str, Any], *, due_by: date) -> dict[str, Any]:
    """What needs the partner's attention, from the panels already read (no more queries):
    answers due within two business days, protections ending soon, launches at the Dealdesk."""
    counts = {item.status: item.count for item in context["request_counts"]}
    due = [item for item in context["takeovers"] if item.due_date and item.due_date <= due_by]
    pending = counts.get(RequestStatus.PENDING_APPROVAL.value, 0)
    return {
        "answers_due": due,
        "due_by": due_by,
        "expiring": context["expiring"],
        "pending_approval": pending,
        "any": bool(due or context["expiring"] or pending),
    }
