"""Helpers shared by the requests tests."""

from datetime import timedelta

from django.utils import timezone

from requests_app.models import RequestKind, RequestStatus
from tests.factories import PartnerRequestFactory

# Valid Brazilian CNPJs with different roots.
NEW_CNPJ = "16727230000197"  # not in the registry
PROSPECT_CNPJ = "35068427000106"
CLIENT_CNPJ = "45723174000110"
OTHER_CLIENT_CNPJ = "28391765000119"
SPARE_CNPJ = "77420519000153"


def make_request(
    *,
    partner,
    company,
    kind=RequestKind.LAUNCH,
    status=RequestStatus.SUBMITTED,
    created_by=None,
    assigned_ae=None,
    protected_days=90,
    **fields,
):
    """A request as the services leave it, without going through them (for list pages)."""
    return PartnerRequestFactory(
        kind=kind,
        status=status,
        partner=partner,
        company=company,
        created_by=created_by,
        assigned_ae=assigned_ae,
        protected_until=timezone.now() + timedelta(days=protected_days)
        if kind == RequestKind.LAUNCH
        else None,
        **fields,
    )


def launch_post(company_tax_id=NEW_CNPJ, **overrides):
    data = {
        "country": "BR",
        "tax_id": company_tax_id,
        "company_name": "New Co",
        "contact_name": "Maria Lima",
        "contact_email": "maria@newco.example",
        "contact_phone": "+55 (11) 91234-5678",
        "employee_count": "250",
        "business_model": "reseller",
    }
    data.update(overrides)
    return data
