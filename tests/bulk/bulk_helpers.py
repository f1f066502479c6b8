"""Helpers for the bulk-check tests: valid Tax IDs, CSV files as spreadsheets write them."""

from __future__ import annotations

import csv
import io

from stdnum.br import cnpj as br_cnpj

from bulk.csv import TEMPLATE_COLUMNS


def cnpj(root: int, branch: str = "0001") -> str:
    """A valid compact CNPJ with an 8-digit root and a 4-digit branch."""
    base = f"{root:08d}{branch}"
    return base + br_cnpj.calc_check_digits(base)


def formatted(compact: str) -> str:
    return f"{compact[:2]}.{compact[2:5]}.{compact[5:8]}/{compact[8:12]}-{compact[12:]}"


def bad_checksum(compact: str) -> str:
    last = (int(compact[-1]) + 1) % 10
    return compact[:-1] + str(last)


def csv_bytes(
    rows,
    header=TEMPLATE_COLUMNS,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    lineterminator: str = "\r\n",
) -> bytes:
    """A CSV file: rows are dicts (by column) or lists (cells as they are)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(header)
    for row in rows:
        if isinstance(row, dict):
            writer.writerow([row.get(column, "") for column in header])
        else:
            writer.writerow(row)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def parse_report(data: bytes, delimiter: str = ",") -> tuple[list[str], list[dict[str, str]]]:
    """The report's header and its rows as dicts."""
    assert data.startswith(b"\xef\xbb\xbf"), "the report starts with a UTF-8 BOM"
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def launch_row(tax_id: str, **overrides) -> dict[str, str]:
    """A row with complete, valid contact and commercial data."""
    row = {
        "country": "BR",
        "tax_id": tax_id,
        "company_name": "Academia Bulk Ltda",
        "contact_name": "Maria Silva",
        "contact_email": "maria@academia.example",
        "contact_phone": "+55 11 3456-7890",
        "employee_count": "120",
        "business_model": "reseller",
    }
    row.update(overrides)
    return row
