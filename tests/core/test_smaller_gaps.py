"""An unclosed quote is refused with its line, formulas after spaces are neutralised, every
log line of a request carries its ID, and signed-in answers are never cached."""

import html
import io
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bulk.csv import UploadRejected, inspect_upload
from bulk.models import BulkCheckJob
from core.csvfiles import SafeCsvWriter, UnclosedQuote, read_rows, spreadsheet_safe, text_stream
from core.logging import RequestIDLogFilter
from eligibility.importer import import_companies
from eligibility.importer_types import ImportFileError
from eligibility.models import Company

ROW = b"BR,11.222.333/0001-81,Acme\r\n"


def _rows(data: bytes):
    header, rows = read_rows(text_stream(io.BytesIO(data), "utf-8-sig"), ",")
    return header, list(rows)


def _file_with_unclosed_quote() -> bytes:
    # The header, 3 rows, an opened quote on line 5, then 50 rows it would swallow.
    return b"country,tax_id,company_name\r\n" + ROW * 3 + b'BR,"11.222.333/0001-81,x\r\n' + ROW * 50


def test_an_unclosed_quote_is_refused_with_the_line_where_it_opened():
    with pytest.raises(UnclosedQuote) as unclosed:
        _rows(_file_with_unclosed_quote())
    assert unclosed.value.line == 5


def test_an_upload_with_an_unclosed_quote_is_refused_naming_the_line():
    with pytest.raises(UploadRejected) as rejected:
        inspect_upload(_file_with_unclosed_quote(), max_rows=1000)
    assert "Line 5" in rejected.value.message
    assert "never closed" in rejected.value.message


def test_the_bulk_page_refuses_it_and_stores_nothing(alice_client):
    data = _file_with_unclosed_quote()
    response = alice_client.post(
        "/eligibility/bulk/",
        {"file": SimpleUploadedFile("c.csv", data, "text/csv"), "mode": "check"},
    )
    assert "Line 5 opens a quote" in html.unescape(response.content.decode())
    assert not BulkCheckJob.objects.exists()


@pytest.mark.django_db
def test_the_registry_import_refuses_it_too():
    data = (
        b"country,tax_id,legal_name,status,products,paid_by\r\n"
        b'BR,"1,x,prospect,,\r\nBR,2,y,prospect,,\r\n'
    )
    with pytest.raises(ImportFileError) as refused:
        import_companies(stream=io.BytesIO(data), on_problem=lambda line, message: None)
    assert "Line 2" in str(refused.value)
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        b'tax_id,name\r\n1,"two\r\nlines"\r\n2,"last ""quoted"" cell"\r\n',
        b'tax_id,name\r\n1,"closed at the very end"',
        b'tax_id,name\r\n1,a stray " quote\r\n2,x\r\n',
        b'tax_id,name\r\n1,"multi\r\nline at the end"\r\n',
    ],
)
def test_closed_quotes_and_stray_quotes_are_read_as_before(data):
    header, rows = _rows(data)
    assert header == ["tax_id", "name"]
    assert rows


def test_an_unclosed_quote_on_the_last_line_is_refused_too():
    with pytest.raises(UnclosedQuote) as unclosed:
        _rows(b'tax_id,name\r\n1,ok\r\n2,"open')
    assert unclosed.value.line == 3


@pytest.mark.parametrize("cell", ["  =1+1", " +cmd", "\u00a0@SUM(A1)", "\u3000-2", "   \t=x"])
def test_a_formula_after_spaces_is_neutralised(cell):
    assert spreadsheet_safe(cell) == "'" + cell
    writer = SafeCsvWriter()
    writer.write([cell])
    assert writer.getvalue().decode().startswith(("'", "\"'"))


@pytest.mark.parametrize("cell", ["  Acme", "   ", "a=1", " 12"])
def test_spaces_before_plain_text_change_nothing(cell):
    assert spreadsheet_safe(cell) == cell


@pytest.mark.parametrize("path", ["/no-such-page/", "/requests/RH-999999/"])
def test_4xx_log_lines_carry_the_request_id(alice_client, caplog, path):
    caplog.handler.addFilter(RequestIDLogFilter())
    with caplog.at_level(logging.INFO):
        response = alice_client.get(path)
    assert response.status_code == 404
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1, "logged once, not again by Django after the middleware"
    assert records[0].request_id == response["X-Request-ID"]


@pytest.mark.parametrize(
    "path", ["/", "/requests/", "/eligibility/check/", "/eligibility/bulk/template.csv"]
)
def test_signed_in_pages_and_downloads_are_not_stored(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives
    assert "public" not in directives
