"""Reading bulk-check uploads as spreadsheets write them, and writing safe reports."""

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulk.csv import (
    TEMPLATE_COLUMNS,
    Columns,
    UploadRejected,
    inspect_upload,
    report_header,
    template_csv,
)
from core.csvfiles import SafeCsvWriter as ReportWriter
from core.csvfiles import normalise_column, read_rows, text_stream
from core.csvfiles import spreadsheet_safe as safe_cell
from tests.bulk.bulk_helpers import cnpj, csv_bytes

MAX_ROWS = 50_000
ID = cnpj(12_345_678)


def rows_of(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Read an accepted upload the way the worker does: streamed, with the chosen layout."""
    layout = inspect_upload(data, max_rows=MAX_ROWS)
    header, rows = read_rows(text_stream(io.BytesIO(data), layout.encoding), layout.delimiter)
    return header, list(rows)


def rejection(data: bytes, max_rows: int = MAX_ROWS) -> str:
    with pytest.raises(UploadRejected) as raised:
        inspect_upload(data, max_rows=max_rows)
    return raised.value.message


# --- What spreadsheets write is accepted -------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_with_or_without_bom_is_read(bom):
    data = csv_bytes([{"tax_id": ID, "company_name": "Açaí & Cia"}], bom=bom)
    layout = inspect_upload(data, max_rows=MAX_ROWS)
    header, rows = rows_of(data)
    assert layout.encoding == "utf-8-sig"
    assert header == list(TEMPLATE_COLUMNS)
    assert rows[0][1][2] == "Açaí & Cia"


def test_windows_1252_is_read_when_the_file_is_not_utf8():
    data = csv_bytes(
        [{"tax_id": ID, "company_name": "São Paulo Ginástica — Ltda"}], encoding="cp1252"
    )
    layout = inspect_upload(data, max_rows=MAX_ROWS)
    _header, rows = rows_of(data)
    assert layout.encoding == "cp1252"
    assert rows[0][1][2] == "São Paulo Ginástica — Ltda"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed_from_the_header_line(delimiter):
    data = csv_bytes([{"tax_id": ID, "company_name": "A, B; C"}], delimiter=delimiter)
    layout = inspect_upload(data, max_rows=MAX_ROWS)
    _header, rows = rows_of(data)
    assert layout.delimiter == delimiter
    assert rows[0][1][1] == ID
    assert rows[0][1][2] == "A, B; C"


def test_single_column_file_is_accepted():
    layout = inspect_upload(f"tax_id\n{ID}\n".encode(), max_rows=MAX_ROWS)
    assert layout.delimiter == ","
    assert layout.row_count == 1


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_any_line_ending_is_read(ending):
    data = ending.join(["country;tax_id", f"BR;{ID}", f"BR;{cnpj(1)}", ""]).encode()
    _header, rows = rows_of(data)
    assert [cells for _line, cells in rows] == [["BR", ID], ["BR", cnpj(1)]]


def test_quoted_cells_keep_delimiters_quotes_and_line_breaks():
    data = (
        "tax_id,company_name,contact_name\r\n"
        f'{ID},"Acme, ""the best""\r\nGym",Ana\r\n'
        f"{cnpj(2)},Plain,Bob\r\n"
    ).encode()
    _header, rows = rows_of(data)
    assert rows[0] == (2, [ID, 'Acme, "the best"\r\nGym', "Ana"])
    # Lines are spreadsheet rows: the quoted line break does not shift the next row's number.
    assert rows[1][0] == 3


def test_blank_rows_and_trailing_blank_lines_are_not_rows():
    data = f"tax_id,country\r\n{ID},BR\r\n\r\n,\r\n{cnpj(3)},BR\r\n\r\n,,,\r\n\r\n".encode()
    layout = inspect_upload(data, max_rows=MAX_ROWS)
    _header, rows = rows_of(data)
    assert layout.row_count == 2
    assert [line for line, _cells in rows] == [2, 5]


def test_header_in_any_case_order_and_spacing_is_recognised():
    header = [" Company Name ", "TAX ID", "extra column", " Country"]
    columns = Columns(header)
    assert columns.index["tax_id"] == 1
    assert columns.index["company_name"] == 0
    assert columns.index["country"] == 3
    assert (
        inspect_upload(
            csv_bytes([["X", ID, "y", "br"]], header=header), max_rows=MAX_ROWS
        ).row_count
        == 1
    )


@pytest.mark.parametrize("name", ["tax_id", "Tax ID", " TAX-ID ", "\ufefftax_id", "ï»¿Tax_Id"])
def test_column_names_are_normalised(name):
    assert normalise_column(name) == "tax_id"


def test_rows_with_too_few_cells_read_as_empty_cells():
    columns = Columns(list(TEMPLATE_COLUMNS))
    assert columns.getter("contact_email")(["BR", ID]) == ""
    assert columns.fit(["BR", ID]) == ["BR", ID, "", "", "", "", "", ""]


def test_extra_cells_are_counted_only_when_they_hold_something():
    columns = Columns(["country", "tax_id"])
    assert columns.extra_cells(["BR", ID, "", "  "]) == 0
    assert columns.extra_cells(["BR", ID, "Inc", ""]) == 1
    assert columns.fit(["BR", ID, "Inc"]) == ["BR", ID]


# --- Everything else is refused at once, saying why ------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-an-xlsx", "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old-xls", "Excel"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image"),
        (b"\x1f\x8b\x08\x00archive", "compressed"),
        ("tax_id\r\n123\r\n".encode("utf-16"), "UTF-16"),
        (b"tax_id\n12345\x00678\n", "not a text CSV"),
        (bytes(range(1, 32)) * 20, "not a text CSV"),
    ],
)
def test_files_that_are_not_csv_are_refused(data, words):
    message = rejection(data)
    assert words in message
    assert "CSV" in message


def test_bytes_that_no_encoding_can_read_are_refused():
    # 0x81 is undefined in Windows-1252 and invalid on its own in UTF-8.
    message = rejection(b"tax_id,company_name\r\n123,Caf\x81\r\n")
    assert "characters we cannot read" in message


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b",,,\r\n,,\r\n", b";;;\n;\n"]
)
def test_empty_files_are_refused(data):
    assert rejection(data) == "The file is empty."


@pytest.mark.parametrize(
    "data",
    [b"country,tax_id\r\n", b"country,tax_id\r\n\r\n,\r\n\r\n", b"\xef\xbb\xbftax_id"],
)
def test_header_without_rows_is_refused(data):
    assert "no rows" in rejection(data)


def test_missing_tax_id_column_is_refused_naming_what_was_found():
    message = rejection(b"country,cnpj,company\r\nBR,123,Acme\r\n")
    assert "no tax_id column" in message
    assert "country, cnpj, company" in message


def test_tax_id_column_twice_is_refused():
    assert "tax_id appears more than once" in rejection(b"tax_id,Tax ID\r\n1,2\r\n")


def test_more_rows_than_the_limit_are_refused():
    data = csv_bytes([{"tax_id": str(n)} for n in range(11)], header=["tax_id"])
    assert inspect_upload(data, max_rows=11).row_count == 11
    assert "more than 10 rows" in rejection(data, max_rows=10)


def test_a_cell_beyond_the_csv_field_limit_is_refused_with_its_line():
    data = b'tax_id,company_name\r\n1,ok\r\n2,"' + b"x" * 200_000 + b'"\r\n'
    message = rejection(data)
    assert "Line 3" in message
    assert "longer than" in message


def test_inspection_and_streaming_count_the_same_rows():
    data = csv_bytes([{"tax_id": cnpj(n)} for n in range(50)], delimiter=";")
    layout = inspect_upload(data, max_rows=MAX_ROWS)
    _header, rows = rows_of(data)
    assert layout.row_count == len(rows) == 50


# --- Reports are safe to open in a spreadsheet ----------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("Acme = Gym", "Acme = Gym"),
        ("12.345.678/0001-95", "12.345.678/0001-95"),
        ("", ""),
    ],
)
def test_cells_that_start_a_formula_are_neutralised(cell, expected):
    assert safe_cell(cell) == expected


def test_report_writer_neutralises_every_cell_and_quotes_as_needed():
    writer = ReportWriter(";")
    writer.write(["=cmd|' /C calc'!A0", "a;b", "ok"])
    assert writer.getvalue() == b"'=cmd|' /C calc'!A0;\"a;b\";ok\r\n"


def test_report_header_has_a_bom_the_input_columns_and_the_result_columns():
    data = report_header(["Tax ID", "=evil"], ",")
    assert data == "\ufeffTax ID,'=evil,result,reason,request_reference\r\n".encode()


def test_template_has_the_contract_header_and_one_valid_example_row():
    data = template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(TEMPLATE_COLUMNS)
    assert len(rows) == 2
    assert inspect_upload(data, max_rows=MAX_ROWS).row_count == 1


# --- Fuzzing: nothing crashes the reader ------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _accepted_or_rejected(data: bytes) -> None:
    try:
        layout = inspect_upload(data, max_rows=MAX_ROWS)
    except UploadRejected as rejected:
        assert rejected.message.strip()
        return
    header, rows = read_rows(text_stream(io.BytesIO(data), layout.encoding), layout.delimiter)
    assert "tax_id" in Columns(header).index
    assert layout.row_count == sum(1 for _row in rows) >= 1


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused_cleanly(data):
    _accepted_or_rejected(data)


@FUZZ
@given(st.binary(max_size=500))
def test_arbitrary_bytes_after_a_valid_header_are_read_or_refused_cleanly(tail):
    _accepted_or_rejected(b"country,tax_id,company_name\r\n" + tail)


@FUZZ
@given(st.text(max_size=1000))
def test_arbitrary_text_is_read_or_refused_cleanly(text):
    _accepted_or_rejected(("tax_id;country\n" + text).encode("utf-8"))
    _accepted_or_rejected(text.encode("utf-8"))


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@FUZZ
@given(
    rows=st.lists(st.lists(cell_text, min_size=3, max_size=3), min_size=1, max_size=20),
    delimiter=st.sampled_from([",", ";"]),
    bom=st.booleans(),
)
def test_what_a_csv_writer_writes_is_read_back_exactly(rows, delimiter, bom):
    data = csv_bytes(rows, header=["tax_id", "country", "note"], delimiter=delimiter, bom=bom)
    try:
        layout = inspect_upload(data, max_rows=MAX_ROWS)
    except UploadRejected as rejected:
        # Only files with nothing in them, or with control characters, may be refused.
        assert (
            "empty" in rejected.message
            or "no rows" in rejected.message
            or ("not a text CSV" in rejected.message)
        )
        return
    header, read = read_rows(text_stream(io.BytesIO(data), layout.encoding), layout.delimiter)
    assert header == ["tax_id", "country", "note"]
    expected = [row for row in rows if "".join(row).strip()]
    assert [cells for _line, cells in read] == expected
