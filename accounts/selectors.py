"""Reads about accounts that several apps share."""

from accounts.models import Partner, User
from accounts.rules import acting_partner


def partner_or_403(user: User) -> Partner:
    """The organisation a partner page acts for; staff and paused partners are refused (403).

    The partner gate itself is accounts.rules.acting_partner (NoActivePartner is a 403).
    """
    return acting_partner(user)
