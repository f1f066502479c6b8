"""Small display helpers for request pages."""

from django import template

from eligibility.models import Company, EligibilityCheck
from eligibility.taxid import format_tax_id
from requests_app.models import RequestStatus

register = template.Library()

_BADGES: dict[str, str] = {
    RequestStatus.PENDING_APPROVAL: "text-bg-warning",
    RequestStatus.APPROVED: "text-bg-success",
    RequestStatus.REJECTED: "text-bg-danger",
    RequestStatus.SUBMITTED: "text-bg-primary",
    RequestStatus.IN_PROGRESS: "text-bg-info",
    RequestStatus.WON: "text-bg-success",
    RequestStatus.LOST: "text-bg-secondary",
    RequestStatus.EXPIRED: "text-bg-secondary",
    RequestStatus.DECLINED: "text-bg-danger",
    RequestStatus.WITHDRAWN: "text-bg-secondary",
}


@register.filter
def status_badge(status: str) -> str:
    """The Bootstrap badge class for a status."""
    return _BADGES.get(status, "text-bg-light")


@register.filter
def tax_id(company: Company | EligibilityCheck) -> str:
    """A company's (or a check's) Tax ID as people write it in its country."""
    return format_tax_id(company.country, company.tax_id)
