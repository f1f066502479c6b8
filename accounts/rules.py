"""What a partner may do: the partner-level rules that the check, requests and bulk jobs share.

Each rule is one function here; every other place calls it instead of reading the Partner's
fields itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessModel, Partner, User


class NoActivePartner(PermissionDenied):
    """The user acts for no active partner: a staff member, or a user of a paused partner.

    Pages answer it with the 403 page (Django's handler); services let it through to their
    caller; the bulk worker fails the job with its message.
    """

    def __init__(self, user: User | None = None) -> None:
        paused = user is not None and user.partner is not None and not user.partner.is_active
        message = (
            partner_paused_message()
            if paused
            else _("Only users of an active partner organisation can do this.")
        )
        super().__init__(message)
        self.message = str(message)
        self.paused = paused


def partner_paused_message() -> str:
    """What the users of a paused partner are told, wherever they meet the pause."""
    return str(_("Your organisation's access to the Reseller Hub is paused. Contact support."))


def acting_partner(user: User) -> Partner:
    """The organisation the user acts for, or NoActivePartner (the one partner gate)."""
    partner = user.active_partner
    if partner is None:
        raise NoActivePartner(user)
    return partner


def country_or_home(partner: Partner, country: str | None) -> str:
    """The country as an upper-case code; empty means the partner's home country."""
    return (country or "").strip().upper() or partner.home_country


def allows_business_model(partner: Partner, business_model: str) -> bool:
    """The partner may sell under this business model."""
    return business_model in partner.business_models


def business_model_refusal(partner: Partner, business_model: str) -> str:
    """Why the partner cannot use this business model ("" when it can)."""
    if allows_business_model(partner, business_model):
        return ""
    return str(_("Choose a business model your organisation is allowed."))


def takeover_refusal(partner: Partner) -> str:
    """Why the partner cannot take over payment of a client's plans ("" when it can).

    Taking over payment means the partner bills the client: the reseller model only.
    """
    if allows_business_model(partner, BusinessModel.RESELLER):
        return ""
    return str(
        _(
            "Taking over payment needs the reseller business model, which your organisation "
            "does not have. Ask your account executive if you want to add it."
        )
    )


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str


def partner_contact(partner: Partner) -> Contact:
    """Whom the partner asks at Wellhub: its account executive, else the partnerships team."""
    ae = partner.designated_ae
    if ae is not None and ae.is_active:
        return Contact(ae.get_full_name() or ae.email, ae.email)
    return Contact(str(_("Wellhub's partnerships team")), settings.PARTNERSHIPS_TEAM_EMAIL)
