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

from eligibility.decision import OpenLaunch


class ProtectionHolders(Protocol):
    """Reads the open launch requests that protect these keys (`taxid.protection_key`)."""

    def __call__(self, keys: Collection[str], /) -> Mapping[str, OpenLaunch]: ...


_reader: ProtectionHolders | None = None


def register_protection_holders(reader: ProtectionHolders) -> None:
    """Name the function that reads open launches by protection key (one per project)."""
    global _reader
    _reader = reader


def open_launches_by_key(keys: Collection[str]) -> Mapping[str, OpenLaunch]:
    """The open launch protecting each of these keys (keys nobody holds are left out)."""
    if _reader is None:
        raise ImproperlyConfigured(
            "No reader of open launch requests is registered: add the requests app to "
            "INSTALLED_APPS (its AppConfig.ready registers it)."
        )
    return _reader(keys)
