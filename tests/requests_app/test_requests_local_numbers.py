"""Employee counts typed the local way: 1.200 in Portuguese, 1.200 or 1,200 in Spanish."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from requests_app.models import parse_employee_count
from tests.requests_app.requests_helpers import NEW_CNPJ, launch_post


@pytest.mark.parametrize(
    ("language", "typed", "count"),
    [
        ("pt-br", "1.200", 1200),
        ("pt-br", "12.500", 12_500),
        ("pt-br", " 2.000 ", 2000),
        ("es", "1.200", 1200),
        ("es", "1,200", 1200),
        ("es", "1.250.000", 1_250_000),
        ("en", "1,200", 1200),
        ("en", "250", 250),
        ("pt-br", "250", 250),
    ],
)
def test_grouped_numbers_are_read_the_local_way(language, typed, count):
    with translation.override(language):
        assert parse_employee_count(typed) == count


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("pt-br", "1,200"),  # a decimal comma in Portuguese: one point two
        ("pt-br", "1,5"),
        ("pt-br", "1.5"),
        ("pt-br", "1.20"),
        ("pt-br", "1.2000"),
        ("pt-br", ".200"),
        ("pt-br", "1..200"),
        ("es", "1,5"),
        ("es", "1.2,00"),
        ("es", "1.200,000"),  # the two separators mixed
        ("en", "1.200"),  # a decimal point in English
        ("en", "1,20"),
    ],
)
def test_ambiguous_or_malformed_numbers_are_refused(language, typed):
    with translation.override(language), pytest.raises(ValidationError) as refused:
        parse_employee_count(typed)
    assert refused.value.code == "not_a_whole_number"


def test_a_grouped_number_still_has_the_range_rule():
    with translation.override("es"), pytest.raises(ValidationError) as refused:
        parse_employee_count("20.000.000")
    assert refused.value.code == "too_large"


@pytest.mark.django_db
def test_a_portuguese_speaker_sends_a_launch_with_1_200_employees(client, alice):
    from requests_app.models import PartnerRequest

    alice.language = "pt-br"
    alice.save()
    client.force_login(alice)
    response = client.post("/requests/new/launch/", launch_post(NEW_CNPJ, employee_count="1.200"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert PartnerRequest.objects.get(partner=alice.partner).employee_count == 1200


@pytest.mark.django_db
def test_an_english_speaker_is_told_1_200_is_not_a_whole_number(client, alice):
    from requests_app.models import PartnerRequest

    client.force_login(alice)
    response = client.post("/requests/new/launch/", launch_post(NEW_CNPJ, employee_count="1.200"))
    assert response.status_code == 200
    assert "whole number" in response.content.decode()
    assert not PartnerRequest.objects.exists()


@pytest.mark.parametrize(("language", "shown"), [("en", "10,000,000"), ("pt-br", "10.000.000")])
def test_the_largest_count_is_written_the_local_way(language, shown):
    with translation.override(language), pytest.raises(ValidationError) as refused:
        parse_employee_count("99999999")
    assert shown in refused.value.messages[0]
