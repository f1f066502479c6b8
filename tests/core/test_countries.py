"""The supported countries: names in the active language, choices sorted by that name."""

from django.utils import translation

from core.countries import SUPPORTED_COUNTRIES, country_choices, country_name


def test_country_name_in_the_active_language_and_unknown_codes_as_given():
    with translation.override("en"):
        assert country_name("DE") == "Germany"
    assert country_name("ZZ") == "ZZ"


def test_country_choices_cover_every_country_sorted_by_localized_name():
    with translation.override("en"):
        choices = country_choices()
    assert [code for code, _ in choices] == sorted(
        SUPPORTED_COUNTRIES, key=lambda code: str(SUPPORTED_COUNTRIES[code]).casefold()
    )
    assert dict(choices)["GB"] == "United Kingdom"
