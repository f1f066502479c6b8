"""The eligibility rule of DESIGN §4, over plain values: no database, no model instances.

`decide` answers for one valid Tax ID from what the registry and the open launch requests say
about it (read beforehand, in batches, by `eligibility.services.decide_many`):

    blocked (the company, or its family when the company itself is no client) -> unavailable
    a client (the company, or its head office / a branch sharing the CNPJ root) -> client,
        offering the products it lacks (upsell) and those it pays directly (takeover)
    an open launch request by anyone -> unavailable (the partner's own: own_open_request,
        naming it); either way with the date its protection ends
    otherwise -> available (prospect when the registry knows it, else new_company)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from eligibility.models import Company, EligibilityResult
from eligibility.taxid import TaxIdResult


class Reason:
    NEW_COMPANY = "new_company"  # not in the registry
    PROSPECT = "prospect"  # in the registry, not a client
    CLIENT = "client"
    BRANCH_OF_CLIENT = "branch_of_client"
    BLOCKED = "blocked"
    PROTECTED = "protected"  # someone else's (or Wellhub's) open launch request
    OWN_OPEN_REQUEST = "own_open_request"


class Action:
    """What a partner may start from a result (the `data-action` markers of the pages)."""

    LAUNCH = "launch"
    UPSELL = "upsell"
    TAKEOVER = "takeover"


REASON_MESSAGES: dict[str, Promise] = {
    Reason.NEW_COMPANY: _(
        "This company is not a Wellhub client yet. You can send a launch request."
    ),
    Reason.PROSPECT: _("This company is not a Wellhub client yet. You can send a launch request."),
    Reason.CLIENT: _("This company is already a Wellhub client."),
    Reason.BRANCH_OF_CLIENT: _(
        "This is a branch of a company that is already a Wellhub client, so it gets that "
        "company's answer."
    ),
    Reason.BLOCKED: _(
        "Wellhub cannot accept this company as a client through the partner "
        "channel. Contact your account executive for details."
    ),
    Reason.PROTECTED: _(
        "Another launch request for this company is already open, so it cannot be launched now."
    ),
    # %(reference)s: the partner's own open request (filled in by `decide`).
    Reason.OWN_OPEN_REQUEST: _(
        "Your organisation's request %(reference)s is open: your organisation already has an "
        "open launch request for this company."
    ),
}

_CLIENT = Company.Status.CLIENT.value
_BLOCKED = Company.Status.BLOCKED.value
AVAILABLE = EligibilityResult.AVAILABLE.value
UNAVAILABLE = EligibilityResult.UNAVAILABLE.value


class RegistryLine(NamedTuple):
    """A company as the registry lists it."""

    id: int
    country: str
    tax_id: str
    legal_name: str
    status: str  # a Company.Status value


class ProductLine(NamedTuple):
    id: int
    code: str
    name: str


class Holding(NamedTuple):
    """A product a client has, and who pays for it."""

    product: ProductLine
    paid_by_partner_id: int | None  # None: the client pays Wellhub directly

    @property
    def paid_directly(self) -> bool:
        return self.paid_by_partner_id is None


class OpenLaunch(NamedTuple):
    """An open launch request protecting a company (and its branches)."""

    id: int
    reference: str
    partner_id: int
    protected_until: datetime | None = None  # when the company can be checked again


class OpenFollowup(NamedTuple):
    """The partner's own open upsell or takeover request for a client company."""

    kind: str  # an Action value: upsell or takeover
    reference: str


@dataclass(frozen=True, slots=True)
class Asker:
    """The partner asking, as far as the rule needs it, and the language it is answered in."""

    partner_id: int
    takeover_refusal: str  # why it may not take over payment ("" when it may)
    messages: Mapping[str, str]  # REASON_MESSAGES in the asker's language (reason_messages())


@dataclass(frozen=True, slots=True)
class ClientOffers:
    """What a client may be offered: the products each client company has, the active ones."""

    holdings: Mapping[int, Sequence[Holding]]  # by company id
    active_products: Sequence[ProductLine]
    # The asking partner's own open upsells and takeovers, by company id: none twice.
    open_followups: Mapping[int, Sequence[OpenFollowup]] = field(default_factory=dict)


NO_OFFERS = ClientOffers(holdings={}, active_products=())


@dataclass(slots=True)
class Decision:
    """The answer for one Tax ID. Read-only by agreement: the same company asked twice in a
    batch gets the same Decision (`dataclasses.replace` makes a changed copy)."""

    country: str
    tax_id: str  # compact; "" when invalid
    result: str  # an EligibilityResult value
    reason: str
    message: str
    company: RegistryLine | None = None  # the company's line; a branch gets its client's
    holdings: list[Holding] = field(default_factory=list)
    own_request: OpenLaunch | None = None  # the partner's own open launch
    protected_until: datetime | None = None  # when an open launch's protection ends
    open_followups: list[OpenFollowup] = field(default_factory=list)  # the partner's own
    upsell_products: list[ProductLine] = field(default_factory=list)
    takeover_products: list[ProductLine] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    takeover_refused_reason: str = ""

    @property
    def is_available(self) -> bool:
        return self.result == EligibilityResult.AVAILABLE

    @property
    def is_client(self) -> bool:
        return self.result == EligibilityResult.CLIENT

    @property
    def shown_legal_name(self) -> str:
        """The registry's legal name as a partner may see it: never that of an `unavailable`
        (blocked or protected) company, whose existence in the registry is not theirs to read."""
        if self.company is None or self.result == UNAVAILABLE:
            return ""
        return self.company.legal_name


def decide(
    *,
    country: str,
    tax_id: str,
    family: Sequence[RegistryLine],
    open_launch: OpenLaunch | None,
    offers: ClientOffers,
    asker: Asker,
) -> Decision:
    """The answer for a valid (country, compact Tax ID), in the order of DESIGN §4.

    ``family`` is the registry lines sharing the company's root (its own line, its head office,
    its branches) in registry order; ``open_launch`` the open launch protecting that root.
    """
    own = _own_line(family, tax_id)
    if is_blocked(own, family):
        return _answer(country, tax_id, UNAVAILABLE, Reason.BLOCKED, own, asker)
    client = own if own is not None and own.status == _CLIENT else _first_client(family)
    if client is not None:
        return _client_answer(country, tax_id, client, client is not own, offers, asker)
    if open_launch is not None:
        return _protected_answer(country, tax_id, own, open_launch, asker)
    reason = Reason.PROSPECT if own is not None else Reason.NEW_COMPANY
    return _answer(country, tax_id, AVAILABLE, reason, own, asker, actions=[Action.LAUNCH])


# Plain loops below rather than generator expressions: a bulk file decides thousands of
# companies, nearly all with a family of zero or one line.


def is_blocked(own: RegistryLine | None, family: Sequence[RegistryLine]) -> bool:
    """Blocked itself, or not a client itself in a family with a blocked line (the cautious
    answer when a family has both)."""
    if own is not None and own.status in (_BLOCKED, _CLIENT):
        return own.status == _BLOCKED
    for line in family:
        if line.status == _BLOCKED:
            return True
    return False


def may_be_protected(family: Sequence[RegistryLine]) -> bool:
    """Only a family with neither a client nor a blocked line is decided by open launches."""
    for line in family:
        if line.status == _CLIENT or line.status == _BLOCKED:
            return False
    return True


def _own_line(family: Sequence[RegistryLine], tax_id: str) -> RegistryLine | None:
    for line in family:
        if line.tax_id == tax_id:
            return line
    return None


def _first_client(family: Sequence[RegistryLine]) -> RegistryLine | None:
    for line in family:
        if line.status == _CLIENT:
            return line
    return None


def _protected_answer(
    country: str, tax_id: str, own: RegistryLine | None, open_launch: OpenLaunch, asker: Asker
) -> Decision:
    """Held by an open launch: the partner's own names its request; another's names nobody.
    Both say when the protection ends."""
    if open_launch.partner_id == asker.partner_id:
        answer = _answer(
            country, tax_id, UNAVAILABLE, Reason.OWN_OPEN_REQUEST, own, asker, open_launch
        )
        answer.message = answer.message % {"reference": open_launch.reference}
    else:
        answer = _answer(country, tax_id, UNAVAILABLE, Reason.PROTECTED, own, asker)
    answer.protected_until = open_launch.protected_until
    return answer


def _client_answer(
    country: str,
    tax_id: str,
    client: RegistryLine,
    is_branch: bool,
    offers: ClientOffers,
    asker: Asker,
) -> Decision:
    """A client (or a branch of one, which gets its client's line): what may be offered."""
    held = list(offers.holdings.get(client.id, ()))
    held_ids = {holding.product.id for holding in held}
    upsell = [product for product in offers.active_products if product.id not in held_ids]
    takeover = [holding.product for holding in held if holding.paid_directly]
    # The partner's own open upsell or takeover is linked instead of offering another.
    open_followups = list(offers.open_followups.get(client.id, ()))
    open_kinds = {followup.kind for followup in open_followups}
    actions = [Action.UPSELL] if upsell and Action.UPSELL not in open_kinds else []
    refused = ""
    if takeover and asker.takeover_refusal:
        refused = asker.takeover_refusal
    elif takeover and Action.TAKEOVER not in open_kinds:
        actions.append(Action.TAKEOVER)
    reason = Reason.BRANCH_OF_CLIENT if is_branch else Reason.CLIENT
    return Decision(
        country=country,
        tax_id=tax_id,
        result=EligibilityResult.CLIENT,
        reason=reason,
        message=asker.messages[reason],
        company=client,
        holdings=held,
        upsell_products=upsell,
        takeover_products=takeover,
        actions=actions,
        takeover_refused_reason=refused,
        open_followups=open_followups,
    )


def _answer(
    country: str,
    tax_id: str,
    result: str,
    reason: str,
    company: RegistryLine | None,
    asker: Asker,
    own_request: OpenLaunch | None = None,
    *,
    actions: list[str] | None = None,
) -> Decision:
    return Decision(
        country,
        tax_id,
        result,
        reason,
        asker.messages[reason],
        company,
        own_request=own_request,
        actions=actions or [],
    )


def invalid_decision(validation: TaxIdResult) -> Decision:
    """The answer for a Tax ID that failed validation (its reason and message)."""
    return Decision(
        country=validation.country,
        tax_id="",
        result=EligibilityResult.INVALID,
        reason=validation.reason_code,
        message=str(validation.message),
    )


def reason_messages() -> Mapping[str, str]:
    """REASON_MESSAGES in the active language."""
    return _reason_messages(get_language())


@lru_cache(maxsize=32)
def _reason_messages(language: str | None) -> dict[str, str]:
    # Translated once per language: a bulk file asks for these messages thousands of times.
    return {reason: str(message) for reason, message in REASON_MESSAGES.items()}
