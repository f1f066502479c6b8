"""Who holds a company: the open launch requests the decision must see, asked through a port.

The requests app owns launch requests and sits above eligibility, so eligibility cannot import
it. Instead the requests app registers its reader here when Django starts
(`RequestsAppConfig.ready`), and the decision asks through `open_launches_by_key`. Without a
registered reader a decision would wrongly call protected companies available, so asking
without one fails loudly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from eligibility.decision import OpenFollowup, OpenLaunch


class ProtectionHolders(Protocol):
    """Reads the open launch requests that protect these keys (`taxid.protection_key`)."""

    def __call__(self, keys: Collection[str], /) -> Mapping[str, OpenLaunch]: ...


class FollowupReader(Protocol):
    """Reads a partner's own open upsell and takeover requests for these client companies."""

    def __call__(
        self, partner_id: int, company_ids: Collection[int], /
    ) -> Mapping[int, list[OpenFollowup]]: ...


_reader: ProtectionHolders | None = None
_followup_reader: FollowupReader | None = None


def register_protection_holders(
    reader: ProtectionHolders, followups: FollowupReader | None = None
) -> None:
    """Name the functions that read open launches by protection key and a partner's open
    follow-ups by company (one each per project)."""
    global _reader, _followup_reader
    _reader = reader
    if followups is not None:
        _followup_reader = followups


def open_launches_by_key(keys: Collection[str]) -> Mapping[str, OpenLaunch]:
    """The open launch protecting each of these keys (keys nobody holds are left out)."""
    if _reader is None:
        raise ImproperlyConfigured(
            "No reader of open launch requests is registered: add the requests app to "
            "INSTALLED_APPS (its AppConfig.ready registers it)."
        )
    return _reader(keys)


def open_followups_by_company(
    partner_id: int, company_ids: Collection[int]
) -> Mapping[int, list[OpenFollowup]]:
    """The partner's own open upsells and takeovers for these companies (none: left out)."""
    if _followup_reader is None:
        raise ImproperlyConfigured(
            "No reader of open follow-up requests is registered: add the requests app to "
            "INSTALLED_APPS (its AppConfig.ready registers it)."
        )
    return _followup_reader(partner_id, company_ids)
