"""The one CSV reader (bulk uploads and registry imports) and the spreadsheet-safe rule."""

import io

import pytest

from core.csvfiles import (
    CP1252,
    FORMULA_TRIGGERS,
    UTF8,
    CsvRejected,
    detect_layout,
    read_rows,
    spreadsheet_safe,
    text_stream,
)


def layout_of(data: bytes):
    stream = io.BytesIO(data)
    layout = detect_layout(stream)
    assert stream.tell() == 0  # left at the start, ready to be read for the rows
    return layout


def test_a_character_split_across_read_pieces_is_still_utf8():
    # About 1.2 MB of two-byte characters: the encoding check reads 1 MB pieces.
    data = ("tax_id;name\r\n" + "1;" + "ç" * 600_001 + "\r\n").encode("utf-8")
    assert (layout_of(data).encoding, layout_of(data).delimiter) == (UTF8, ";")


def test_one_windows_1252_byte_far_into_the_file_makes_it_windows_1252():
    data = b"tax_id\tname\n" + b"1\tplain\n" * 200_000 + b"2\tS\xe3o Paulo\n"
    layout = layout_of(data)
    assert (layout.encoding, layout.delimiter) == (CP1252, "\t")
    header, rows = read_rows(text_stream(io.BytesIO(data), layout.encoding), layout.delimiter)
    assert header == ["tax_id", "name"]
    assert list(rows)[-1] == (200_002, ["2", "São Paulo"])


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"", "empty"), (b"PK\x03\x04xlsx", "Excel"), (b"tax_id\nCaf\x81\n", "cannot read")],
)
def test_what_is_not_a_readable_csv_is_rejected_saying_why(data, words):
    with pytest.raises(CsvRejected) as rejected:
        detect_layout(io.BytesIO(data))
    assert words in rejected.value.message


@pytest.mark.parametrize("trigger", sorted(FORMULA_TRIGGERS))
def test_every_trigger_gets_an_apostrophe_and_other_text_is_kept(trigger):
    assert spreadsheet_safe(trigger + "1") == "'" + trigger + "1"
    assert spreadsheet_safe("Acme " + trigger) == "Acme " + trigger
    assert spreadsheet_safe("") == ""
