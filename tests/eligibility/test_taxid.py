"""Tests for eligibility.taxid: company Tax ID validation with python-stdnum."""

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.countries import SUPPORTED_COUNTRIES, country_choices
from eligibility.taxid import (
    MAX_INPUT_LENGTH,
    VAT_PREFIX_COUNTRIES,
    TaxIdResult,
    cnpj_root,
    validate_tax_id,
)

REASON_CODES = {
    "empty",
    "too_long",
    "unsupported_country",
    "invalid_format",
    "invalid_length",
    "invalid_checksum",
    "generic_rfc",
    "not_a_company",
}

# (country, as a partner might type it, expected compact form); all checked by stdnum.
VALID_IDS = [
    ("AR", "30-50001091-2", "30500010912"),
    ("BR", "16.727.230/0001-97", "16727230000197"),
    ("BR", "12.ABC.345/01DE-35", "12ABC34501DE35"),
    ("CL", "76.086.428-5", "760864285"),
    ("CO", "213.123.432-1", "2131234321"),
    ("PE", "20512333797", "20512333797"),
    ("US", "91-1144442", "911144442"),
    ("ES", "B64717838", "B64717838"),
    ("ES", "54362315K", "54362315K"),
    ("PT", "501 964 843", "501964843"),
    ("IT", "00743110157", "00743110157"),
    ("DE", "136695976", "136695976"),
    ("GB", "980 7806 84", "980780684"),
    ("IE", "6433435OA", "6433435OA"),
    ("IE", "6433435F", "6433435F"),
    ("MX", "MAB-930714-8T4", "MAB9307148T4"),
]

# One wrong check digit per country that has one.
BAD_CHECK_DIGITS = [
    ("AR", "30-50001091-3"),
    ("BR", "16.727.230/0001-98"),
    ("BR", "12.ABC.345/01DE-36"),
    ("CL", "76.086.428-4"),
    ("CO", "213.123.432-5"),
    ("PE", "20512333798"),
    ("ES", "B64717839"),
    ("PT", "501 964 842"),
    ("IT", "00743110158"),
    ("DE", "136695978"),
    ("GB", "802311781"),
    ("IE", "6433435E"),
]


def assert_invalid(result: TaxIdResult, reason_code: str) -> None:
    assert result.is_valid is False
    assert result.reason_code == reason_code
    assert result.compact == ""
    assert isinstance(result.message, str) and result.message


def test_every_supported_country_has_a_valid_example_and_a_wrong_example():
    assert {country for country, _, _ in VALID_IDS} == set(SUPPORTED_COUNTRIES)
    without_check_digit = {"US", "MX"}  # covered by dedicated tests below
    wrong = {country for country, _ in BAD_CHECK_DIGITS}
    assert wrong | without_check_digit == set(SUPPORTED_COUNTRIES)


@pytest.mark.parametrize(("country", "raw", "compact"), VALID_IDS)
def test_valid_tax_id_returns_its_compact_form(country, raw, compact):
    result = validate_tax_id(country, raw)
    assert result == TaxIdResult(country, compact, True, "", "")


@pytest.mark.parametrize(("country", "raw"), BAD_CHECK_DIGITS)
def test_wrong_check_digit_is_reported_as_invalid_checksum(country, raw):
    result = validate_tax_id(country, raw)
    assert_invalid(result, "invalid_checksum")
    assert result.message == "The check digit is wrong."


def test_us_ein_has_no_check_digit_so_an_unknown_prefix_is_invalid_format():
    assert_invalid(validate_tax_id("US", "07-1144442"), "invalid_format")


def test_mx_rfc_check_digit_is_not_enforced_like_stdnum_default():
    # About 1.5% of real RFCs carry a "wrong" check digit; they must not be refused.
    assert validate_tax_id("MX", "MAB-930714-8T5").compact == "MAB9307148T5"


def test_mx_rfc_with_impossible_date_is_invalid_format():
    assert_invalid(validate_tax_id("MX", "MAB-931314-8T4"), "invalid_format")


def test_wrong_number_of_characters_names_the_country():
    result = validate_tax_id("BR", "16.727.230/0001")
    assert_invalid(result, "invalid_length")
    assert result.message == "The Tax ID has the wrong number of characters for Brazil."


def test_new_alphanumeric_cnpj_is_accepted_in_any_case_and_format():
    for raw in ("12.ABC.345/01DE-35", "12abc34501de35", " 12 abc 345 01de 35 "):
        assert validate_tax_id("BR", raw).compact == "12ABC34501DE35"


def test_branches_of_one_company_share_the_cnpj_root():
    head_office = validate_tax_id("BR", "16.727.230/0001-97").compact
    branch = validate_tax_id("BR", "16.727.230/0002-78").compact
    assert branch and head_office != branch
    assert cnpj_root(head_office) == cnpj_root(branch) == "16727230"


def test_alphanumeric_branches_share_the_cnpj_root():
    head_office = validate_tax_id("BR", "12.ABC.345/01DE-35").compact
    branch = validate_tax_id("BR", "12.ABC.345/02DE-06").compact
    assert branch and cnpj_root(head_office) == cnpj_root(branch) == "12ABC345"


def test_cnpj_root_ignores_formatting():
    assert cnpj_root("16.727.230/0001-97") == "16727230"
    assert cnpj_root("12.abc.345/01de-35") == "12ABC345"


@pytest.mark.parametrize("generic", ["XAXX010101000", "XEXX010101000", "xaxx-010101-000"])
def test_mx_generic_rfc_is_refused(generic):
    assert_invalid(validate_tax_id("MX", generic), "generic_rfc")


@pytest.mark.parametrize("person", ["GODE 561231 GR8", "VACE-460910-SX6", "COMG-600703"])
def test_mx_person_rfc_is_not_a_company(person):
    assert_invalid(validate_tax_id("MX", person), "not_a_company")


def test_mx_company_rfc_may_contain_ampersand_and_enye():
    assert validate_tax_id("MX", "A&C-930714-AB1").compact == "A&C930714AB1"
    assert validate_tax_id("MX", "ñab930714ab1").compact == "ÑAB930714AB1"


@pytest.mark.parametrize("country", ["ZZ", "", "xx", "   ", "BRA", "EU"])
def test_unsupported_country_is_refused(country):
    assert_invalid(validate_tax_id(country, "16.727.230/0001-97"), "unsupported_country")


@pytest.mark.parametrize("country", ["br", " BR ", "\tBr\n"])
def test_country_code_is_case_and_whitespace_insensitive(country):
    result = validate_tax_id(country, "16.727.230/0001-97")
    assert result.is_valid and result.country == "BR"


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", " - . / "])
def test_empty_input_is_reported_as_empty(raw):
    assert_invalid(validate_tax_id("BR", raw), "empty")


def test_ten_kilobyte_input_is_too_long():
    assert_invalid(validate_tax_id("BR", "1" * 10_240), "too_long")
    assert_invalid(validate_tax_id("BR", " " * (MAX_INPUT_LENGTH + 1)), "too_long")


@pytest.mark.parametrize(
    ("country", "raw", "compact"),
    [
        ("DE", "DE136695976", "136695976"),
        ("DE", "de 136 695 976", "136695976"),
        ("ES", "ESB58378431", "B58378431"),
        ("ES", "ES B-58378431", "B58378431"),
        ("PT", "PT501964843", "501964843"),
        ("IT", "IT 00743110157", "00743110157"),
        ("GB", "GB980780684", "980780684"),
        ("IE", "IE6433435OA", "6433435OA"),
    ],
)
def test_vat_prefix_is_accepted_and_dropped_from_compact(country, raw, compact):
    assert validate_tax_id(country, raw).compact == compact


def test_vat_prefix_of_another_country_is_not_accepted():
    assert not validate_tax_id("IT", "DE136695976").is_valid


@pytest.mark.parametrize(
    "raw",
    [
        "1' OR '1'='1",
        "16727230000197'; DROP TABLE partners;--",
        "<script>alert(1)</script>",
        "16727230\x000197",
        "\x00",
    ],
)
def test_hostile_input_is_invalid_format(raw):
    assert_invalid(validate_tax_id("BR", raw), "invalid_format")


@pytest.mark.parametrize(
    ("country", "raw"),
    [
        ("MX", "M\u0410B9307148T4"),  # Cyrillic capital A
        ("ES", "\u041264717838"),  # Cyrillic capital Ve looks like B
        ("IE", "6433435\u041e\u0410"),  # Cyrillic O and A
        ("BR", "12.\u0410BC.345/01DE-35"),
    ],
)
def test_cyrillic_confusables_are_invalid_format(country, raw):
    assert_invalid(validate_tax_id(country, raw), "invalid_format")


def test_fullwidth_digits_are_normalised_to_ascii():
    result = validate_tax_id("BR", "１６.７２７.２３０/０００１-９７")
    assert result.compact == "16727230000197"


def test_invisible_characters_from_copy_paste_are_ignored():
    assert validate_tax_id("DE", "136\u200b695\u00ad976\u00a0").compact == "136695976"


def test_message_is_a_plain_string_not_a_lazy_object():
    assert type(validate_tax_id("BR", "").message) is str


def test_country_choices_cover_all_countries_sorted_by_name():
    choices = country_choices()
    assert {code for code, _ in choices} == set(SUPPORTED_COUNTRIES)
    names = [name for _, name in choices]
    assert names == sorted(names, key=str.casefold)
    assert all(type(name) is str for name in names)
    assert ("BR", "Brazil") in choices


@st.composite
def reformatted_valid_ids(draw):
    country, _, compact = draw(st.sampled_from(VALID_IDS))
    base = compact
    if country in VAT_PREFIX_COUNTRIES and draw(st.booleans()):
        base = country + compact
    separators = st.text(alphabet=" .-/", max_size=2)
    pieces = []
    for char in base:
        pieces.append(draw(separators))
        pieces.append(char.lower() if draw(st.booleans()) else char)
    pieces.append(draw(separators))
    return country, "".join(pieces), compact


@hypothesis_settings(database=None, max_examples=300)
@given(reformatted_valid_ids())
def test_separators_and_case_never_change_the_compact_form(case):
    country, raw, compact = case
    result = validate_tax_id(country, raw)
    assert result.is_valid, raw
    assert result.compact == compact


@hypothesis_settings(database=None, max_examples=500)
@given(
    country=st.one_of(st.sampled_from(sorted(SUPPORTED_COUNTRIES)), st.text(max_size=4)),
    raw=st.one_of(st.text(max_size=MAX_INPUT_LENGTH + 8), st.text(alphabet="0123456789ABCDEF")),
)
def test_arbitrary_text_never_raises_and_invalid_always_explains(country, raw):
    result = validate_tax_id(country, raw)
    assert isinstance(result, TaxIdResult)
    if result.is_valid:
        assert result.compact and result.reason_code == "" and result.message == ""
        assert result.country in SUPPORTED_COUNTRIES
    else:
        assert result.reason_code in REASON_CODES
        assert isinstance(result.message, str) and result.message
        assert result.compact == ""
