"""Reads about accounts that several apps share."""

from django.core.exceptions import PermissionDenied

from accounts.models import Partner, User


def partner_or_403(user: User) -> Partner:
    """The organisation a partner page acts for; staff and paused partners are refused (403)."""
    partner = user.active_partner
    if partner is None:
        raise PermissionDenied
    return partner
