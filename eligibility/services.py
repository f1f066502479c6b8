"""Eligibility use cases: decide for a batch of Tax IDs, and check (validate, decide, log) one.

The single check, the bulk check and request submission all end in `decide_many`, so the rule
(`eligibility.decision.decide`) is applied in one place only.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from accounts.models import Partner, User
from accounts.rules import acting_partner, country_or_home, takeover_refusal
from eligibility import selectors
from eligibility.decision import (
    NO_OFFERS,
    Asker,
    Decision,
    decide,
    invalid_decision,
    may_be_protected,
    reason_messages,
)
from eligibility.models import Company, EligibilityCheck
from eligibility.protections import open_followups_by_company, open_launches_by_key
from eligibility.sql.checklog import CheckEntry, insert_line, log_line
from eligibility.taxid import company_root, protection_key, validate_tax_id

_CLIENT = Company.Status.CLIENT.value


def decide_many(*, partner: Partner, items: Sequence[tuple[str, str]]) -> list[Decision]:
    """Decide for valid (country, compact Tax ID) pairs, in the order given, in five queries
    at most whatever their number.

    The registry lines of the companies' families; then, only when some family has a client,
    the clients' subscriptions, the products and the partner's own open upsells and takeovers
    for them; and, for the families with neither a client nor a blocked company, the open
    launch requests that protect them.
    """
    if not items:
        return []
    family_keys = {item: (item[0], company_root(*item)) for item in dict.fromkeys(items)}
    roots_by_country: dict[str, set[str]] = defaultdict(set)
    for country, root in family_keys.values():
        roots_by_country[country].add(root)
    families = selectors.registry_families(roots_by_country)
    family_of = {item: families.get(key, []) for item, key in family_keys.items()}

    client_ids = {
        line.id for family in families.values() for line in family if line.status == _CLIENT
    }
    offers = NO_OFFERS
    if client_ids:
        offers = dataclasses.replace(
            selectors.client_offers(client_ids),
            open_followups=open_followups_by_company(partner.pk, client_ids),
        )
    free_keys = {
        item: protection_key(*item)
        for item, family in family_of.items()
        if may_be_protected(family)
    }
    open_launches = open_launches_by_key(set(free_keys.values())) if free_keys else {}

    asker = Asker(
        partner_id=partner.pk,
        takeover_refusal=takeover_refusal(partner),
        messages=reason_messages(),
    )
    decided = {
        item: decide(
            country=item[0],
            tax_id=item[1],
            family=family,
            open_launch=open_launches.get(free_keys[item]) if item in free_keys else None,
            offers=offers,
            asker=asker,
        )
        for item, family in family_of.items()
    }
    return [decided[item] for item in items]


def check_company(
    *,
    user: User,
    country: str,
    raw_tax_id: str,
    company_name: str = "",
    source: str = EligibilityCheck.Source.SINGLE,
) -> Decision:
    """Validate, decide and log one check by a user of an active partner.

    An empty country means the partner's home country. Whatever the input, the answer is a
    Decision (invalid input gives an `invalid` one) and it is logged. A user who acts for no
    active partner gets NoActivePartner, and nothing is logged.
    """
    decision, _logged = check_and_log(
        user=user, country=country, raw_tax_id=raw_tax_id, company_name=company_name, source=source
    )
    return decision


def check_and_log(
    *,
    user: User,
    country: str,
    raw_tax_id: str,
    company_name: str = "",
    source: str = EligibilityCheck.Source.SINGLE,
) -> tuple[Decision, EligibilityCheck]:
    """`check_company`, also giving the check log line it wrote (for pages that show it)."""
    partner = acting_partner(user)
    country = country_or_home(partner, country)
    validation = validate_tax_id(country, raw_tax_id)
    if validation.is_valid:
        (decision,) = decide_many(partner=partner, items=[(validation.country, validation.compact)])
    else:
        decision = invalid_decision(validation)
    entry = CheckEntry(country, raw_tax_id, company_name, decision)
    line = log_line(user=user, partner=partner, source=source, entry=entry)
    insert_line(line)
    return decision, line
