"""The eligibility decision: the one place that says whether a partner may launch a company.

The single check, the bulk check and request submission all call `decide_many` (or
`check_company`, which wraps it with validation and the check log), so the rule lives here only.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner, User
from eligibility.models import Company, EligibilityCheck, EligibilityResult, Product, Subscription
from eligibility.taxid import (
    SUPPORTED_COUNTRIES,
    TaxIdResult,
    company_root,
    validate_tax_id,
)

if TYPE_CHECKING:
    from requests_app.models import PartnerRequest


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


REASON_MESSAGES = {
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
    Reason.OWN_OPEN_REQUEST: _(
        "Your organisation already has an open launch request for this company."
    ),
}

TAKEOVER_NEEDS_RESELLER = _(
    "Taking over payment needs the reseller business model, which your organisation does not have."
)


@dataclass(frozen=True)
class Holding:
    product: Product
    paid_by_partner_id: int | None

    @property
    def paid_directly(self) -> bool:
        return self.paid_by_partner_id is None


@dataclass
class Decision:
    country: str
    tax_id: str  # compact; "" when invalid
    result: str
    reason: str
    message: str
    company: Company | None = None
    holdings: list[Holding] = field(default_factory=list)
    own_request: object | None = None  # the partner's own open launch (PartnerRequest)
    upsell_products: list[Product] = field(default_factory=list)
    takeover_products: list[Product] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    takeover_refused_reason: str = ""

    @property
    def is_available(self) -> bool:
        return self.result == EligibilityResult.AVAILABLE

    @property
    def is_client(self) -> bool:
        return self.result == EligibilityResult.CLIENT


def _reason_message(reason: str) -> str:
    """REASON_MESSAGES[reason] in the active language (translated once per language)."""
    return _translated_reason(reason, get_language())


@lru_cache(maxsize=128)
def _translated_reason(reason: str, language: str | None) -> str:
    return str(REASON_MESSAGES[reason])


def invalid_decision(validation: TaxIdResult) -> Decision:
    return Decision(
        country=validation.country,
        tax_id="",
        result=EligibilityResult.INVALID,
        reason=validation.reason_code,
        message=str(validation.message),
    )


def protection_key(country: str, compact: str) -> str:
    return f"{country}:{company_root(country, compact)}"


def decide_many(*, partner: Partner, items: Sequence[tuple[str, str]]) -> list[Decision]:
    """Decide for valid (country, compact Tax ID) pairs with a fixed number of queries."""
    from requests_app.models import OPEN_LAUNCH_STATUSES, PartnerRequest, RequestKind

    if not items:
        return []
    root_of = {item: company_root(*item) for item in items}  # computed once per Tax ID
    roots = {(country, root) for (country, _tax_id), root in root_of.items()}
    by_country: dict[str, set[str]] = defaultdict(set)
    for country, root in roots:
        by_country[country].add(root)
    root_filter = Q()
    for country, country_roots in by_country.items():
        root_filter |= Q(country=country, root__in=country_roots)

    companies = list(Company.objects.filter(root_filter))
    exact = {(c.country, c.tax_id): c for c in companies}
    group: dict[tuple[str, str], list[Company]] = defaultdict(list)
    for company in companies:
        group[(company.country, company.root)].append(company)

    client_ids = [c.pk for c in companies if c.status == Company.Status.CLIENT]
    holdings: dict[int, list[Holding]] = defaultdict(list)
    if client_ids:
        for sub in Subscription.objects.filter(company_id__in=client_ids).select_related("product"):
            holdings[sub.company_id].append(Holding(sub.product, sub.paid_by_partner_id))
    active_products = list(Product.objects.filter(is_active=True)) if client_ids else []

    keys = {f"{country}:{root}" for country, root in roots}
    open_launches = {
        r.protection_key: r
        for r in PartnerRequest.objects.filter(
            kind=RequestKind.LAUNCH, status__in=OPEN_LAUNCH_STATUSES, protection_key__in=keys
        ).only("pk", "reference", "partner_id", "protection_key", "status")
    }

    decisions = []
    for country, tax_id in items:
        root = root_of[(country, tax_id)]
        family = group.get((country, root), [])
        company = exact.get((country, tax_id))
        decisions.append(
            _decide_one(
                partner=partner,
                country=country,
                tax_id=tax_id,
                company=company,
                family=family,
                holdings=holdings,
                active_products=active_products,
                open_launch=open_launches.get(f"{country}:{root}"),
            )
        )
    return decisions


def _decide_one(
    *,
    partner: Partner,
    country: str,
    tax_id: str,
    company: Company | None,
    family: list[Company],
    holdings: dict[int, list[Holding]],
    active_products: list[Product],
    open_launch: PartnerRequest | None,
) -> Decision:
    def decision(result: str, reason: str, **extra) -> Decision:
        return Decision(
            country=country,
            tax_id=tax_id,
            result=result,
            reason=reason,
            message=_reason_message(reason),
            company=company,
            **extra,
        )

    # The company's own registry line speaks first; a branch with no answer of its own takes
    # the answer of its family (blocked before client: the cautious one when both exist).
    own_status = company.status if company is not None else None
    if own_status == Company.Status.BLOCKED or (
        own_status != Company.Status.CLIENT
        and any(c.status == Company.Status.BLOCKED for c in family)
    ):
        return decision(EligibilityResult.UNAVAILABLE, Reason.BLOCKED)

    client = company if own_status == Company.Status.CLIENT else None
    if client is None:
        client = next((c for c in family if c.status == Company.Status.CLIENT), None)
    if client is not None:
        return _client_decision(
            decision=decision,
            partner=partner,
            client=client,
            held=holdings.get(client.pk, []),
            active_products=active_products,
            is_branch=client is not company,
        )

    if open_launch is not None:
        if open_launch.partner_id == partner.pk:
            return decision(
                EligibilityResult.UNAVAILABLE, Reason.OWN_OPEN_REQUEST, own_request=open_launch
            )
        return decision(EligibilityResult.UNAVAILABLE, Reason.PROTECTED)

    reason = Reason.PROSPECT if company is not None else Reason.NEW_COMPANY
    return decision(EligibilityResult.AVAILABLE, reason, actions=[Action.LAUNCH])


def _client_decision(
    *,
    decision,
    partner: Partner,
    client: Company,
    held: list[Holding],
    active_products: list[Product],
    is_branch: bool,
) -> Decision:
    held_ids = {h.product.pk for h in held}
    upsell = [p for p in active_products if p.pk not in held_ids]
    takeover = [h.product for h in held if h.paid_directly]
    actions = []
    if upsell:
        actions.append(Action.UPSELL)
    refused = ""
    if takeover:
        if partner.allows_reseller:
            actions.append(Action.TAKEOVER)
        else:
            refused = str(TAKEOVER_NEEDS_RESELLER)
    result = decision(
        EligibilityResult.CLIENT,
        Reason.BRANCH_OF_CLIENT if is_branch else Reason.CLIENT,
        holdings=held,
        upsell_products=upsell,
        takeover_products=takeover,
        actions=actions,
        takeover_refused_reason=refused,
    )
    result.company = client
    return result


def check_company(
    *,
    user: User,
    country: str,
    raw_tax_id: str,
    company_name: str = "",
    source: str = EligibilityCheck.Source.SINGLE,
) -> Decision:
    """Validate, decide and log one check by a partner user.

    An empty country means the partner's home country (as in the bulk template). Whatever the
    input, the answer is a Decision (invalid input gives an `invalid` one) and it is logged.
    """
    partner = user.partner
    if partner is None:
        raise ValueError("Only partner users check companies.")
    country = (country or "").strip().upper() or partner.home_country
    validation = validate_tax_id(country, raw_tax_id)
    if validation.is_valid:
        (decision,) = decide_many(partner=partner, items=[(validation.country, validation.compact)])
    else:
        decision = invalid_decision(validation)
    log_checks(user=user, source=source, entries=[(country, raw_tax_id, company_name, decision)])
    return decision


def _loggable(text: str | None, limit: int) -> str:
    # PostgreSQL text cannot hold NUL characters; they only ever come from hostile input.
    return (text or "").replace("\x00", "")[:limit]


def log_checks(
    *,
    user: User,
    source: str,
    entries: Iterable[tuple[str, str, str, Decision]],
    bulk_job=None,
) -> int:
    """Record checks in one insert. Inputs are truncated to the log's column sizes."""
    entries = list(entries)
    if len(entries) >= COPY_MIN_ROWS and connection.vendor == "postgresql":
        return _copy_checks(user=user, source=source, entries=entries, bulk_job=bulk_job)
    rows = [
        EligibilityCheck(
            user=user,
            partner_id=user.partner_id,
            source=source,
            country=_loggable(country, 8),
            raw_input=_loggable(raw, 128),
            company_name=_loggable(name, 255),
            tax_id=decision.tax_id,
            result=decision.result,
            reason=decision.reason[:64],
            bulk_job=bulk_job,
        )
        for country, raw, name, decision in entries
    ]
    EligibilityCheck.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# From this many rows (a bulk file's chunk) the log is written with COPY: the same rows as
# bulk_create, without building model instances or an INSERT with a parameter per cell
# (about ten times less work for a chunk of 2,000).
COPY_MIN_ROWS = 100


def _copy_checks(*, user: User, source: str, entries: list, bulk_job) -> int:
    fields = [f for f in EligibilityCheck._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(EligibilityCheck._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    bulk_job_id = bulk_job.pk if bulk_job is not None else None
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            for country, raw, name, decision in entries:
                values = {
                    "user": user.pk,
                    "partner": user.partner_id,
                    "source": source,
                    "country": _loggable(country, 8),
                    "raw_input": _loggable(raw, 128),
                    "company_name": _loggable(name, 255),
                    "tax_id": decision.tax_id,
                    "result": decision.result,
                    "reason": decision.reason[:64],
                    "bulk_job": bulk_job_id,
                    "created_at": timezone.now(),
                }
                copy.write_row(
                    [
                        values[f.name]
                        if f.name in values
                        else f.get_db_prep_save(f.get_default(), connection)
                        for f in fields
                    ]
                )
    return len(entries)


def format_tax_id(country: str, compact: str) -> str:
    """The Tax ID as people write it in that country (11.222.333/0001-81); never raises."""
    from eligibility.taxid import _VALIDATORS

    module_name = _VALIDATORS.get(country)
    if not compact or module_name is None:
        return compact
    try:
        return importlib.import_module(module_name).format(compact)
    except Exception:  # noqa: BLE001 - a display nicety must never break a page
        return compact


def country_name(country: str) -> str:
    return str(SUPPORTED_COUNTRIES.get(country, country))
