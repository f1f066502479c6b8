"""A bulk job speaks its uploader's language: the report's reasons and its e-mail."""

import pytest
from django.utils import translation

from tests.bulk.bulk_helpers import bad_checksum, csv_bytes, parse_report
from tests.bulk.conftest import BLOCKED, CLIENT, PROSPECT
from tests.bulk.test_bulk_services import run, start

pytestmark = pytest.mark.django_db

ROWS = [
    {"tax_id": CLIENT},
    {"tax_id": BLOCKED},
    {"tax_id": PROSPECT},
    {"tax_id": bad_checksum(PROSPECT)},
]


def _report(alice, language, on_commit):
    alice.language = language
    alice.save()
    with on_commit():
        job = run(start(alice, csv_bytes(ROWS)))
    return parse_report(bytes(job.report_data))


@pytest.mark.parametrize(
    ("language", "reason", "subject"),
    [
        ("en", "The check digit is wrong.", "Bulk check report: companies.csv"),
        ("pt-br", "O dígito verificador está errado.", "Relatório da consulta em lote"),
        ("es", "El dígito verificador es incorrecto.", "Informe de la consulta masiva"),
    ],
)
def test_reasons_and_email_are_in_the_uploaders_language(
    alice, registry, on_commit, mailoutbox, language, reason, subject
):
    with translation.override("en"):  # whatever the worker's own language
        header, rows = _report(alice, language, on_commit)
    assert rows[3]["reason"] == reason
    assert subject in mailoutbox[-1].subject


def test_header_and_result_codes_stay_english(alice, registry, on_commit):
    english_header, english = _report(alice, "en", on_commit)
    spanish_header, spanish = _report(alice, "es", on_commit)
    assert spanish_header == english_header
    assert [row["result"] for row in spanish] == [row["result"] for row in english]
    assert [row["result"] for row in spanish] == ["client", "unavailable", "available", "invalid"]
    assert all(row["reason"] for row in spanish)
    for en_row, es_row in zip(english, spanish, strict=True):
        assert en_row["reason"] != es_row["reason"]
