"""The check log's writes and the check's small lookups, in SQL written by hand.

Everything here is SQL written from the models' names (a renamed table or column still reaches
it), because the benchmarks show the ORM costs measurably more on these hot paths:

- `bench/load.py`: a single check must keep at least 50% of a bare view's throughput (it
  keeps 50-70%, at about 3.5 ms of CPU a request). The ORM spends about 0.45 ms of CPU
  building each of the check's small statements, several times what running them costs:
  measured on PostgreSQL, CPU per call, ORM `values_list` against the SQL here: registry
  lines 0.40-0.49 ms vs 0.09 ms, subscriptions 0.44 vs 0.09 ms, open launches 0.52 vs 0.13 ms.
  The log line is one INSERT, without the transaction `bulk_create` opens around one row.
- `bench/bulk.py`: a 50,000-row file in about 2.4-2.7 s, at least 30x an ORM loop. A chunk's
  log lines are written with COPY (about ten times less work than `bulk_create` for a chunk
  of 2,000), and a chunk's thousands of roots are one `= ANY(array)` parameter on PostgreSQL
  instead of an IN list with a placeholder each.

The package's docstring (eligibility.sql) says what else is written by hand, and why.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

from django.db import connection, connections, router
from django.db.models import Field, Model
from django.utils import timezone

from accounts.models import Partner, User
from eligibility.decision import Decision
from eligibility.models import Company, EligibilityCheck, Subscription

# From this many rows (a bulk file's chunk) the log is written with COPY.
COPY_MIN_ROWS = 100


class CheckEntry(NamedTuple):
    """One check to log: what was typed and what the partner was told."""

    country: str
    raw_input: str
    company_name: str
    decision: Decision
    line: int | None = None  # a bulk row's line in its file
    note: str = ""  # a bulk row's reason when it is not the decision's own message


# --- The registry reads of a decision ----------------------------------------------------------


def registry_rows(roots_by_country: Mapping[str, Collection[str]]) -> list[tuple[Any, ...]]:
    """(id, country, tax_id, root, legal_name, status) of the companies with these roots, in
    registry order (country, tax_id)."""
    db = router.db_for_read(Company)
    vendor = connections[db].vendor
    table, selected = _names(
        Company, "id", "country", "tax_id", "root", "legal_name", "status", using=db
    )
    _id, country, tax_id, root, _name, _status = selected
    where, params = [], []
    for code, roots in roots_by_country.items():
        roots_sql, roots_params = _one_of(root, sorted(roots), vendor)
        where.append(f"({country} = %s AND {roots_sql})")
        params += [code, *roots_params]
    sql = (
        f"SELECT {', '.join(selected)} FROM {table} "  # noqa: S608 - names from the model
        f"WHERE {' OR '.join(where)} ORDER BY {country}, {tax_id}"
    )
    return _fetch(db, sql, params)


def subscription_rows(company_ids: Collection[int]) -> list[tuple[Any, ...]]:
    """(company id, product id, paying partner id) of these companies' subscriptions, oldest
    first."""
    if not company_ids:
        return []
    fields = ("company", "product", "paid_by_partner")
    return select_rows(Subscription, fields, one_of={"company": company_ids}, order_by="id")


def select_rows(
    model: type[Model],
    fields: Sequence[str],
    *,
    equal: Mapping[str, Any] | None = None,
    one_of: Mapping[str, Collection[Any]],
    order_by: str = "",
) -> list[tuple[Any, ...]]:
    """The values of ``fields`` of the rows where each field of ``equal`` has its value and
    each field of ``one_of`` one of its values (what the ORM's `values_list` would give).

    For the small lookups of every check: the open launches protecting a company are read
    through it too (`requests_app.selectors.open_launches_by_key`).
    """
    db = router.db_for_read(model)
    vendor = connections[db].vendor
    table, selected = _names(model, *fields, using=db)
    where, params = [], []
    for name, value in (equal or {}).items():
        where.append(f"{_names(model, name, using=db)[1][0]} = %s")
        params.append(value)
    for name, values in one_of.items():
        column_sql, values_params = _one_of(
            _names(model, name, using=db)[1][0], sorted(values), vendor
        )
        where.append(column_sql)
        params += values_params
    sql = f"SELECT {', '.join(selected)} FROM {table} WHERE {' AND '.join(where)}"  # noqa: S608
    if order_by:
        sql += f" ORDER BY {_names(model, order_by, using=db)[1][0]}"
    return _fetch(db, sql, params)


def _fetch(db: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _one_of(column: str, values: list[Any], vendor: str) -> tuple[str, list[Any]]:
    """``column IN values`` as SQL and parameters: ``= ANY(array)``, one parameter, on
    PostgreSQL; plain equality for one value."""
    if len(values) == 1:
        return f"{column} = %s", values
    if vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _names(model: type[Model], *fields: str, using: str = "default") -> tuple[str, list[str]]:
    """The model's table and these fields' columns, quoted for SQL written by hand."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    columns = [quote(str(cast("Field[Any, Any]", meta.get_field(name)).column)) for name in fields]
    return quote(meta.db_table), columns


# --- Writing the check log --------------------------------------------------------------------


def _loggable(text: str | None, limit: int) -> str:
    # PostgreSQL text cannot hold NUL characters; they only ever come from hostile input.
    return (text or "").replace("\x00", "")[:limit]


def log_line(*, user: User, partner: Partner, source: str, entry: CheckEntry) -> EligibilityCheck:
    """One check log line (not saved). Inputs are truncated to the log's column sizes."""
    return EligibilityCheck(
        user=user,
        partner=partner,
        source=source,
        country=_loggable(entry.country, 8),
        raw_input=_loggable(entry.raw_input, 128),
        company_name=_loggable(entry.company_name, 255),
        tax_id=entry.decision.tax_id,
        result=entry.decision.result,
        reason=entry.decision.reason[:64],
    )


def insert_line(line: EligibilityCheck) -> None:
    """Write one check log line with one INSERT (no transaction of its own).

    Nothing listens to the log's save signals, and no page needs the new line's id.
    """
    table, columns, fields = _log_columns()
    values = [f.get_db_prep_save(getattr(line, f.attname), connection) for f in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608


def log_checks(
    *,
    user: User,
    source: str,
    entries: Iterable[CheckEntry],
    bulk_job: Model | None = None,
    partner: Partner | None = None,
) -> int:
    """Record checks in one statement (COPY for a bulk file's chunk on PostgreSQL).

    The lines are logged for ``partner`` (by default the user's own organisation).
    """
    entries = list(entries)
    partner_id = partner.pk if partner is not None else user.partner_id
    if len(entries) >= COPY_MIN_ROWS and connection.vendor == "postgresql":
        return _copy_checks(user, partner_id, source, entries, bulk_job)
    rows = [
        EligibilityCheck(
            **_log_values(entry),
            user=user,
            partner_id=partner_id,
            source=source,
            bulk_job_id=bulk_job.pk if bulk_job is not None else None,
        )
        for entry in entries
    ]
    EligibilityCheck.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _log_values(entry: CheckEntry) -> dict[str, Any]:
    country, raw_input, company_name, decision, line, note = entry
    return {
        "bulk_line": line,
        "bulk_note": _loggable(note, 255),
        "country": _loggable(country, 8),
        "raw_input": _loggable(raw_input, 128),
        "company_name": _loggable(company_name, 255),
        "tax_id": decision.tax_id,
        "result": decision.result,
        "reason": decision.reason[:64],
    }


def _log_columns() -> tuple[str, str, list[Any]]:
    """The check log's table, its column list and fields, for the hand-written writes."""
    fields = [f for f in EligibilityCheck._meta.concrete_fields if not f.primary_key]
    table, columns = _names(EligibilityCheck, *(f.name for f in fields))
    return table, ", ".join(columns), fields


_PER_ROW = (
    "country",
    "raw_input",
    "company_name",
    "tax_id",
    "result",
    "reason",
    "created_at",
    "bulk_line",
    "bulk_note",
)


def _copy_checks(
    user: User, partner_id: int | None, source: str, entries: list[CheckEntry], bulk_job: Any
) -> int:
    table, columns, fields = _log_columns()
    # Every other column is the same for the whole batch: worked out once, not once a row.
    fixed = {
        "user": user.pk,
        "partner": partner_id,
        "source": source,
        "bulk_job": bulk_job.pk if bulk_job is not None else None,
    }
    template = [
        None
        if f.name in _PER_ROW
        else fixed[f.name]
        if f.name in fixed
        else f.get_db_prep_save(f.get_default(), connection)
        for f in fields
    ]
    names = [f.name for f in fields]
    country_at, raw_at, name_at, tax_id_at, result_at, reason_at, created_at, line_at, note_at = (
        names.index(name) for name in _PER_ROW
    )
    now = timezone.now
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            write_row = copy.write_row
            for country, raw, name, decision, line, note in entries:
                row = template.copy()
                row[country_at] = _loggable(country, 8)
                row[raw_at] = _loggable(raw, 128)
                row[name_at] = _loggable(name, 255)
                row[tax_id_at] = decision.tax_id
                row[result_at] = decision.result
                row[reason_at] = decision.reason[:64]
                row[created_at] = now()
                row[line_at] = line
                row[note_at] = _loggable(note, 255) if note else ""
                write_row(row)
    return len(entries)
