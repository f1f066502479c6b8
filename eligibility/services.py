"""The eligibility decision: the one place that says whether a partner may launch a company.

The single check, the bulk check and request submission all call `decide_many` (or
`check_company`, which wraps it with validation and the check log), so the rule lives here only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection, connections, router
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Partner, User
from eligibility.models import Company, EligibilityCheck, EligibilityResult, Product, Subscription
from eligibility.taxid import (
    _VALIDATORS,
    MAX_INPUT_LENGTH,
    TaxIdResult,
    company_root,
    validate_tax_id,
    validator_module,
)


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


class _RegistryLine:
    """A company's registry line as read for a decision; its Company is built on first use.

    A bulk file's decisions are mostly written to the log and the report, which never look at
    the company: building a model instance for each would be most of the decision's cost.
    Decisions about the same company share the line, so they share one instance.
    """

    __slots__ = ("db", "values", "instance")

    def __init__(self, db: str, values: tuple):
        self.db, self.values, self.instance = db, values, None

    def company(self) -> Company:
        if self.instance is None:
            self.instance = Company.from_db(self.db, _COMPANY_FIELDS, self.values)
        return self.instance


class _CompanyField:
    """`Decision.company`: a Company (or None), given as one or as a _RegistryLine."""

    def __set_name__(self, owner, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, decision, owner=None):
        if decision is None:
            return None  # the field's default
        value = decision.__dict__[self.slot]
        return value.company() if isinstance(value, _RegistryLine) else value

    def __set__(self, decision, value) -> None:
        decision.__dict__[self.slot] = value


@dataclass
class Decision:
    country: str
    tax_id: str  # compact; "" when invalid
    result: str
    reason: str
    message: str
    company: Company | None = _CompanyField()  # noqa: RUF009 - a descriptor, read as None
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
    return _reason_messages(get_language())[reason]


@lru_cache(maxsize=32)
def _reason_messages(language: str | None) -> dict[str, str]:
    return {reason: str(message) for reason, message in REASON_MESSAGES.items()}


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


# What a decision needs of a registry line; the Company a decision carries is built from it
# (created_at and updated_at are left deferred: nothing that reads a decision shows them).
_COMPANY_FIELDS = ("id", "country", "tax_id", "root", "legal_name", "status")
_BLOCKED = Company.Status.BLOCKED.value
_CLIENT = Company.Status.CLIENT.value


# The decision's two lookups below are SQL written here rather than querysets. Every single
# check runs them, and building the same two small SELECTs through the ORM each time costs
# several times what the database takes to answer them (about 0.45 ms of CPU each against
# 0.1 ms, measured for bench/load.py). Names come from the models, so a renamed table or
# column still reaches them.


def _sql_one_of(column: str, values: list, vendor: str) -> tuple[str, list]:
    """``column IN values`` as SQL and parameters: ``= ANY(array)``, one parameter, on
    PostgreSQL (a bulk chunk's thousands of values are then one placeholder to build, send and
    parse); plain equality for one value."""
    if len(values) == 1:
        return f"{column} = %s", values
    if vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _names(model, *fields: str, using: str = "default") -> tuple[str, list[str]]:
    """The model's table and these fields' columns, quoted for SQL written by hand."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    return quote(meta.db_table), [quote(meta.get_field(name).column) for name in fields]


def _registry_lines(db: str, roots_by_country: dict[str, set[str]]) -> list[tuple]:
    """The registry lines (_COMPANY_FIELDS) of the companies with these roots, in registry
    order."""
    connection = connections[db]
    table, columns = _names(Company, *_COMPANY_FIELDS, using=db)
    _id, country, tax_id, root, _name, _status = columns
    where, params = [], []
    for code, roots in roots_by_country.items():
        roots_sql, roots_params = _sql_one_of(root, sorted(roots), connection.vendor)
        where.append(f"({country} = %s AND {roots_sql})")
        params += [code, *roots_params]
    sql = (
        f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 - names from the model
        f"WHERE {' OR '.join(where)} ORDER BY {country}, {tax_id}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _subscriptions(company_ids: set[int]) -> list[tuple[int, int, int | None]]:
    """(company, product, paying partner) of these companies' subscriptions, oldest first."""
    db = router.db_for_read(Subscription)
    connection = connections[db]
    table, (pk, company, product, paid_by) = _names(
        Subscription, "id", "company", "product", "paid_by_partner", using=db
    )
    companies_sql, params = _sql_one_of(company, sorted(company_ids), connection.vendor)
    sql = (
        f"SELECT {company}, {product}, {paid_by} FROM {table} "  # noqa: S608 - model names
        f"WHERE {companies_sql} ORDER BY {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# What a decision needs of an open launch (in the model's field order, as from_db wants it).
_LAUNCH_FIELDS = ("id", "reference", "status", "partner", "protection_key")


def _open_launches(keys: set[str]) -> dict[str, object]:
    """The open launch requests protecting these keys, as PartnerRequests, by key."""
    from requests_app.models import OPEN_LAUNCH_STATUSES, PartnerRequest, RequestKind

    db = router.db_for_read(PartnerRequest)
    connection = connections[db]
    table, selected = _names(PartnerRequest, *_LAUNCH_FIELDS, using=db)
    _id, _reference, status, _partner, key = selected
    _table, (kind,) = _names(PartnerRequest, "kind", using=db)
    statuses_sql, statuses = _sql_one_of(
        status, [s.value for s in OPEN_LAUNCH_STATUSES], connection.vendor
    )
    keys_sql, keys_params = _sql_one_of(key, sorted(keys), connection.vendor)
    sql = (
        f"SELECT {', '.join(selected)} FROM {table} "  # noqa: S608 - names from the model
        f"WHERE {kind} = %s AND {statuses_sql} AND {keys_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [RequestKind.LAUNCH.value, *statuses, *keys_params])
        rows = cursor.fetchall()
    attnames = [PartnerRequest._meta.get_field(name).attname for name in _LAUNCH_FIELDS]
    launches = (PartnerRequest.from_db(db, attnames, row) for row in rows)
    return {launch.protection_key: launch for launch in launches}


def decide_many(*, partner: Partner, items: Sequence[tuple[str, str]]) -> list[Decision]:
    """Decide for valid (country, compact Tax ID) pairs with a fixed number of queries.

    At most four: the registry lines of the companies' families; then, only when some answer
    is a client, that client's subscriptions and the active products; and, for the companies
    that are neither clients nor blocked, the open launch requests that protect them.
    """
    if not items:
        return []
    root_of: dict[tuple[str, str], str] = {}  # computed once per Tax ID
    roots_by_country: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item not in root_of:
            root = root_of[item] = company_root(*item)
            roots_by_country[item[0]].add(root)
    db = router.db_for_read(Company)
    # Registry lines as tuples (in registry order: a family's first client is its answer).
    companies = _registry_lines(db, roots_by_country)
    exact: dict[tuple[str, str], tuple] = {}
    family_blocked: set[tuple[str, str]] = set()
    family_client: dict[tuple[str, str], tuple] = {}
    for row in companies:
        _pk, country, tax_id, root, _name, status = row
        exact[(country, tax_id)] = row
        if status == _BLOCKED:
            family_blocked.add((country, root))
        elif status == _CLIENT:
            family_client.setdefault((country, root), row)

    # The registry speaks first: the company's own line, else its family's (blocked before
    # client: the cautious answer when both exist). None: free, unless a launch protects it.
    verdicts: dict[tuple[str, str], tuple[str, tuple | None, tuple | None]] = {}
    client_ids: set[int] = set()
    open_keys: set[str] = set()
    for item, root in root_of.items():
        own = exact.get(item)
        own_status = own[5] if own is not None else None
        family = (item[0], root)
        if own_status == _BLOCKED or (own_status != _CLIENT and family in family_blocked):
            verdicts[item] = (Reason.BLOCKED, own, None)
            continue
        client = own if own_status == _CLIENT else family_client.get(family)
        if client is not None:
            verdicts[item] = (Reason.CLIENT, own, client)
            client_ids.add(client[0])
            continue
        verdicts[item] = ("", own, None)
        open_keys.add(f"{item[0]}:{root}")

    holdings: dict[int, list[Holding]] = defaultdict(list)
    active_products: list[Product] = []
    if client_ids:
        products = {product.pk: product for product in Product.objects.all()}
        active_products = [product for product in products.values() if product.is_active]
        for company_id, product_id, paid_by in _subscriptions(client_ids):
            holdings[company_id].append(Holding(products[product_id], paid_by))

    open_launches = _open_launches(open_keys) if open_keys else {}

    lines: dict[int, _RegistryLine] = {}

    def line(row: tuple | None) -> _RegistryLine | None:
        if row is None:
            return None
        found = lines.get(row[0])
        if found is None:
            found = lines[row[0]] = _RegistryLine(db, row)
        return found

    messages = _reason_messages(get_language())
    decisions = []
    for item in items:
        country, tax_id = item
        reason, own, client = verdicts[item]
        company = line(own)
        if reason == Reason.BLOCKED:
            decision = Decision(
                country, tax_id, EligibilityResult.UNAVAILABLE, reason, messages[reason], company
            )
        elif client is not None:
            decision = _client_decision(
                partner=partner,
                country=country,
                tax_id=tax_id,
                client=line(client),
                held=holdings.get(client[0], []),
                active_products=active_products,
                is_branch=client is not own,
                messages=messages,
            )
        else:
            open_launch = open_launches.get(f"{country}:{root_of[item]}")
            if open_launch is None:
                reason = Reason.PROSPECT if own is not None else Reason.NEW_COMPANY
                decision = Decision(
                    country,
                    tax_id,
                    EligibilityResult.AVAILABLE,
                    reason,
                    messages[reason],
                    company,
                    actions=[Action.LAUNCH],
                )
            else:
                reason = (
                    Reason.OWN_OPEN_REQUEST
                    if open_launch.partner_id == partner.pk
                    else Reason.PROTECTED
                )
                decision = Decision(
                    country,
                    tax_id,
                    EligibilityResult.UNAVAILABLE,
                    reason,
                    messages[reason],
                    company,
                    own_request=open_launch if reason == Reason.OWN_OPEN_REQUEST else None,
                )
        decisions.append(decision)
    return decisions


def _client_decision(
    *,
    partner: Partner,
    country: str,
    tax_id: str,
    client: _RegistryLine,
    held: list[Holding],
    active_products: list[Product],
    is_branch: bool,
    messages: dict[str, str],
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
    reason = Reason.BRANCH_OF_CLIENT if is_branch else Reason.CLIENT
    return Decision(
        country=country,
        tax_id=tax_id,
        result=EligibilityResult.CLIENT,
        reason=reason,
        message=messages[reason],
        company=client,  # a branch gets its client head office
        holdings=held,
        upsell_products=upsell,
        takeover_products=takeover,
        actions=actions,
        takeover_refused_reason=refused,
    )


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
    partner = user.partner
    if partner is None:
        raise ValueError("Only partner users check companies.")
    country = (country or "").strip().upper() or partner.home_country
    validation = validate_tax_id(country, raw_tax_id)
    if validation.is_valid:
        (decision,) = decide_many(partner=partner, items=[(validation.country, validation.compact)])
    else:
        decision = invalid_decision(validation)
    logged = _log_line(user, source, (country, raw_tax_id, company_name, decision))
    _insert_log_line(logged)
    return decision, logged


def _loggable(text: str | None, limit: int) -> str:
    # PostgreSQL text cannot hold NUL characters; they only ever come from hostile input.
    return (text or "").replace("\x00", "")[:limit]


def _log_line(
    user: User,
    source: str,
    entry: tuple[str, str, str, Decision],
    bulk_job=None,
    partner: Partner | None = None,
) -> EligibilityCheck:
    """One check log line (for `partner`, else the user's). Inputs are cut to the columns."""
    country, raw, name, decision = entry
    return EligibilityCheck(
        user=user,
        partner_id=partner.pk if partner is not None else user.partner_id,
        source=source,
        country=_loggable(country, 8),
        raw_input=_loggable(raw, 128),
        company_name=_loggable(name, 255),
        tax_id=decision.tax_id,
        result=decision.result,
        reason=decision.reason[:64],
        bulk_job=bulk_job,
    )


def log_checks(
    *,
    user: User,
    source: str,
    entries: Iterable[tuple[str, str, str, Decision]],
    bulk_job=None,
    partner: Partner | None = None,
) -> int:
    """Record checks in one insert (COPY for a bulk file's chunk on PostgreSQL).

    The lines carry `partner` when given (a bulk job acts for the partner that uploaded it),
    else the user's partner.
    """
    entries = list(entries)
    partner_id = partner.pk if partner is not None else user.partner_id
    if len(entries) >= COPY_MIN_ROWS and connection.vendor == "postgresql":
        return _copy_checks(
            user=user, partner_id=partner_id, source=source, entries=entries, bulk_job=bulk_job
        )
    rows = [_log_line(user, source, entry, bulk_job, partner) for entry in entries]
    EligibilityCheck.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# From this many rows (a bulk file's chunk) the log is written with COPY: the same rows as
# bulk_create, without building model instances or an INSERT with a parameter per cell
# (about ten times less work for a chunk of 2,000).
COPY_MIN_ROWS = 100


def _log_columns() -> tuple[str, str, list]:
    """The check log's table, its column list and fields, for the hand-written writes below."""
    fields = [f for f in EligibilityCheck._meta.concrete_fields if not f.primary_key]
    table, columns = _names(EligibilityCheck, *(f.name for f in fields))
    return table, ", ".join(columns), fields


def _insert_log_line(line: EligibilityCheck) -> None:
    """Write one check log line with one INSERT (no transaction of its own).

    Written by hand from the model's fields because every single check pays for it: the ORM's
    save compiles the same INSERT each time, which costs more than running it. Nothing listens
    to the log's save signals, and no page needs the new line's id.
    """
    table, columns, fields = _log_columns()
    values = [f.get_db_prep_save(getattr(line, f.attname), connection) for f in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608


def _copy_checks(
    *, user: User, partner_id: int | None, source: str, entries: list, bulk_job
) -> int:
    table, columns, fields = _log_columns()
    per_row = ("country", "raw_input", "company_name", "tax_id", "result", "reason", "created_at")
    # Every other column is the same for the whole batch: worked out once, not once a row.
    fixed = {
        "user": user.pk,
        "partner": partner_id,
        "source": source,
        "bulk_job": bulk_job.pk if bulk_job is not None else None,
    }
    template = [
        None
        if f.name in per_row
        else fixed[f.name]
        if f.name in fixed
        else f.get_db_prep_save(f.get_default(), connection)
        for f in fields
    ]
    names = [f.name for f in fields]
    slots = [names.index(name) for name in per_row]
    country_at, raw_at, name_at, tax_id_at, result_at, reason_at, created_at = slots
    now = timezone.now
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            write_row = copy.write_row
            for country, raw, name, decision in entries:
                row = template.copy()
                row[country_at] = _loggable(country, 8)
                row[raw_at] = _loggable(raw, 128)
                row[name_at] = _loggable(name, 255)
                row[tax_id_at] = decision.tax_id
                row[result_at] = decision.result
                row[reason_at] = decision.reason[:64]
                row[created_at] = now()
                write_row(row)
    return len(entries)


def format_tax_id(country: str, compact: str) -> str:
    """The Tax ID as people write it in that country (11.222.333/0001-81); never raises."""
    if not compact or country not in _VALIDATORS:
        return compact
    if len(compact) > MAX_INPUT_LENGTH:  # not a Tax ID: not worth keeping around
        return _formatted.__wrapped__(country, compact)
    return _formatted(country, compact)


@lru_cache(maxsize=4096)
def _formatted(country: str, compact: str) -> str:
    # Pages show the same few Tax IDs again and again (recent checks, request lists).
    try:
        return validator_module(country).format(compact)
    except Exception:  # noqa: BLE001 - a display nicety must never break a page
        return compact
