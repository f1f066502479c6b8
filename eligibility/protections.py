"""Who holds a company: the open launch requests the decision must see, asked through a port.

The requests app owns launch requests and sits above eligibility, so eligibility cannot import
it. Instead the requests app names its readers here, by dotted path, when Django starts
(`RequestsAppConfig.ready`); they are imported on first use, once the models are loaded. The
decision asks through `open_launches_by_key`. Without a registered reader a decision would
wrongly call protected companies available, so asking without one fails loudly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cache
from typing import TYPE_CHECKING, Protocol, cast

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:  # types only: this module loads before the models (AppConfig.ready)
    from eligibility.decision import OpenFollowup, OpenLaunch


class ProtectionHolders(Protocol):
    """Reads the open launch requests that protect these keys (`taxid.protection_key`)."""

    def __call__(self, keys: Collection[str], /) -> Mapping[str, OpenLaunch]: ...


class FollowupReader(Protocol):
    """Reads a partner's own open upsell and takeover requests for these client companies."""

    def __call__(
        self, partner_id: int, company_ids: Collection[int], /
    ) -> Mapping[int, list[OpenFollowup]]: ...


_paths: dict[str, str] = {}


def register_protection_holders(*, launches: str, followups: str) -> None:
    """Name (by dotted path) the functions that read open launches by protection key and a
    partner's open follow-ups by company (one each per project)."""
    _paths.update(launches=launches, followups=followups)
    _reader.cache_clear()


@cache
def _reader(kind: str) -> object:
    path = _paths.get(kind)
    if path is None:
        raise ImproperlyConfigured(
            f"No reader of open {kind} is registered: add the requests app to INSTALLED_APPS "
            "(its AppConfig.ready registers it)."
        )
    return import_string(path)


def open_launches_by_key(keys: Collection[str]) -> Mapping[str, OpenLaunch]:
    """The open launch protecting each of these keys (keys nobody holds are left out)."""
    return cast(ProtectionHolders, _reader("launches"))(keys)


def open_followups_by_company(
    partner_id: int, company_ids: Collection[int]
) -> Mapping[int, list[OpenFollowup]]:
    """The partner's own open upsells and takeovers for these companies (none: left out)."""
    return cast(FollowupReader, _reader("followups"))(partner_id, company_ids)
