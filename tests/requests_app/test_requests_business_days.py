"""The takeover answer date: business days skip weekends and the company's public holidays."""

from datetime import date

import pytest

from requests_app.business_days import add_business_days, is_business_day


def test_five_business_days_from_a_friday_is_the_next_friday():
    assert add_business_days(date(2026, 11, 27), 5, "BR") == date(2026, 12, 4)


def test_a_request_sent_on_saturday_counts_from_monday():
    assert add_business_days(date(2026, 11, 28), 1, "BR") == date(2026, 11, 30)
    assert add_business_days(date(2026, 11, 28), 5, "BR") == date(2026, 12, 4)


def test_brazilian_carnival_monday_and_tuesday_do_not_count():
    # Fri 13 Feb 2026; Carnival is Mon 16 and Tue 17.
    assert add_business_days(date(2026, 2, 13), 5, "BR") == date(2026, 2, 24)


def test_the_same_dates_in_mexico_have_no_carnival():
    assert add_business_days(date(2026, 2, 13), 5, "MX") == date(2026, 2, 20)


def test_tiradentes_is_skipped_in_brazil():
    # Thu 16 Apr 2026; Tiradentes is Tue 21 Apr.
    assert add_business_days(date(2026, 4, 16), 5, "BR") == date(2026, 4, 24)
    assert not is_business_day(date(2026, 4, 21), "BR")


def test_christmas_is_skipped():
    # Wed 23 Dec 2026; Christmas is Fri 25 Dec.
    assert add_business_days(date(2026, 12, 23), 5, "BR") == date(2026, 12, 31)


def test_new_year_across_the_change_of_year():
    # Mon 28 Dec 2026; 1 Jan 2027 is a Friday holiday.
    assert add_business_days(date(2026, 12, 28), 5, "BR") == date(2027, 1, 5)


def test_a_country_the_holiday_calendar_lacks_counts_weekends_only():
    assert add_business_days(date(2026, 12, 23), 5, "ZZ") == date(2026, 12, 30)


def test_zero_days_is_the_same_day_and_negative_days_are_refused():
    assert add_business_days(date(2026, 12, 23), 0, "BR") == date(2026, 12, 23)
    with pytest.raises(ValueError):
        add_business_days(date(2026, 12, 23), -1, "BR")


def test_weekends_are_not_business_days():
    assert not is_business_day(date(2026, 11, 28), "BR")
    assert not is_business_day(date(2026, 11, 29), "BR")
    assert is_business_day(date(2026, 11, 30), "BR")
