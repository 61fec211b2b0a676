"""Values per language (crisiscomm.formats): booleans, numbers, dates, times, durations as
each language writes them, the Karakalpak table CLDR lacks, and the forms officers type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crisiscomm.formats import (
    InvalidInput,
    boolean_text,
    date_text,
    datetime_text,
    decimal_text,
    duration_text,
    integer_text,
    kaa,
    month_text,
    name_key,
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_integer,
    parse_time,
    time_text,
)

NBSP, NNBSP = "\u00a0", "\u202f"
TASHKENT = "Asia/Tashkent"
# 12 April 2027, 17:40 in Tashkent
MOMENT = datetime(2027, 4, 12, 12, 40, tzinfo=UTC)


# -- written ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "true", "false"),
    [
        ("kaa", "awa", "yaq"),
        ("kaa-Latn", "awa", "yaq"),
        ("uz", "ha", "yo\u02bbq"),  # the Uzbek letter ʻ, not an ASCII apostrophe
        ("uz_Latn", "ha", "yo\u02bbq"),
        ("uz-Cyrl", "ҳа", "йўқ"),
        ("ru", "да", "нет"),
        ("en", "yes", "no"),
    ],
)
def test_yes_and_no_in_each_language(language: str, true: str, false: str) -> None:
    assert (boolean_text(True, language), boolean_text(False, language)) == (true, false)


def test_a_fact_s_own_words_win_and_a_language_without_words_has_none() -> None:
    words = {"ru": ["объявлена", "не объявлена"]}
    assert boolean_text(False, "ru", words) == "не объявлена"
    assert boolean_text(True, "kaa", words) == "awa"  # no own words for kaa: the table's
    assert boolean_text(True, "de") is None


@pytest.mark.parametrize(
    ("language", "whole", "negative", "decimal", "big"),
    [
        ("kaa", f"1{NBSP}200", f"-12{NBSP}000", "4,12", f"1{NBSP}234{NBSP}567,5"),
        ("uz", f"1{NBSP}200", f"-12{NBSP}000", "4,12", f"1{NBSP}234{NBSP}567,5"),
        ("ru", f"1{NBSP}200", f"-12{NBSP}000", "4,12", f"1{NBSP}234{NBSP}567,5"),
        ("en", "1,200", "-12,000", "4.12", "1,234,567.5"),
        ("xx", "1200", "-12000", "4.12", "1234567.5"),  # unknown to CLDR: neutral
    ],
)
def test_numbers_in_each_language(
    language: str, whole: str, negative: str, decimal: str, big: str
) -> None:
    assert integer_text(1200, language) == whole
    assert integer_text(-12000, language) == negative
    assert decimal_text(4.12, language) == decimal
    assert decimal_text(1234567.5, language) == big
    assert decimal_text(3.0, language) == "3"  # a whole number keeps no decimals
    assert integer_text(412, language) == "412"


def test_every_decimal_given_is_kept() -> None:
    assert decimal_text(4.1234, "ru") == "4,1234"
    assert decimal_text(-0.125, "kaa") == "-0,125"
    assert decimal_text(0.1, "en") == "0.1"


@pytest.mark.parametrize(
    ("language", "day", "at", "moment"),
    [
        ("kaa", "2027-jıl 12-aprel", "17:40", "2027-jıl 12-aprel, 17:40"),
        ("uz", "2027-yil 12-aprel", "17:40", "2027-yil 12-aprel, 17:40"),
        # the month in the genitive and in lower case, as Russian dates write it
        ("ru", f"12 апреля 2027{NNBSP}г.", "17:40", f"12 апреля 2027{NNBSP}г., 17:40"),
        ("en", "April 12, 2027", f"5:40{NNBSP}PM", f"April 12, 2027, 5:40{NNBSP}PM"),
        ("xx", "12.04.2027", "17:40", "12.04.2027, 17:40"),
    ],
)
def test_dates_and_times_in_each_language(language: str, day: str, at: str, moment: str) -> None:
    assert date_text(date(2027, 4, 12), language) == day
    assert time_text(time(17, 40), language) == at
    assert datetime_text(MOMENT, language, TASHKENT) == moment


def test_cached_texts_are_babels_own_and_keep_to_the_minute() -> None:
    """Times are cached to the minute: the seconds of a moment never change its text, and
    every cached answer is the one Babel gives afresh."""
    from babel.dates import format_time
    from babel.numbers import format_decimal

    for language, locale in [("ru", "ru"), ("en", "en"), ("uz", "uz_Latn")]:
        for moment in [time(17, 40), time(17, 40, 59, 999999), time(0, 1, 1)]:
            fresh = format_time(moment.replace(second=0, microsecond=0), "short", locale=locale)
            assert time_text(moment, language) == fresh
        assert integer_text(1200, language) == format_decimal(1200, locale=locale)
    assert time_text(time(17, 40, 59), "kaa") == "17:40"
    assert integer_text(-1200, "kaa") == "-1\u00a0200"


def test_a_moment_is_written_in_the_zone_asked_for() -> None:
    assert datetime_text(MOMENT, "kaa", "UTC") == "2027-jıl 12-aprel, 12:40"
    late = datetime(2027, 12, 31, 20, 30, tzinfo=UTC)  # already 2028 in Tashkent
    assert datetime_text(late, "kaa", TASHKENT) == "2028-jıl 1-yanvar, 01:30"
    assert datetime_text(late, "ru", TASHKENT) == f"1 января 2028{NNBSP}г., 01:30"


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("kaa", "2027-jıl mart"),
        ("uz", "2027-yil mart"),
        ("ru", f"март 2027{NNBSP}г."),
        ("en", "March 2027"),
        ("xx", "2027-03"),  # no CLDR data: the month as the archive's file names it
    ],
)
def test_months_in_each_language(language: str, heading: str) -> None:
    assert month_text(2027, 3, language) == heading


@pytest.mark.parametrize(
    ("language", "short", "long", "seconds"),
    [
        ("kaa", "1 saat 30 minut", "2 kún 5 saat", "40 sekund"),
        ("uz", "1 soat 30 daqiqa", "2 kun 5 soat", "40 soniya"),
        ("ru", "1 час 30 минут", "2 дня 5 часов", "40 секунд"),
        ("en", "1 hour 30 minutes", "2 days 5 hours", "40 seconds"),
    ],
)
def test_durations_in_each_language(language: str, short: str, long: str, seconds: str) -> None:
    assert duration_text(timedelta(hours=1, minutes=30), language) == short
    assert duration_text(timedelta(days=2, hours=5, seconds=20), language) == long
    assert duration_text(timedelta(seconds=40), language) == seconds
    assert duration_text(-timedelta(hours=1, minutes=30), language) == short


def test_the_karakalpak_table() -> None:
    """CLDR writes 12 April 2027 as "2027 M04 12" for kaa_Latn; the table writes it as the
    acts of the Council of Ministers do, in the Karakalpak alphabet."""
    assert kaa.MONTHS == (
        "yanvar",
        "fevral",
        "mart",
        "aprel",
        "may",
        "iyun",
        "iyul",
        "avgust",
        "sentyabr",
        "oktyabr",
        "noyabr",
        "dekabr",
    )
    assert kaa.MONTHS_STANDALONE[3] == "Aprel"
    assert kaa.WEEKDAYS == (
        "Dúyshembi",
        "Siyshembi",
        "Sárshembi",
        "Piyshembi",
        "Juma",
        "Shembi",
        "Ekshembi",
    )
    assert date(2024, 3, 2).weekday() == 5 and kaa.WEEKDAYS[5] == "Shembi"  # 02.03.2024, Shembi
    assert (kaa.DECIMAL, kaa.GROUP, kaa.YEAR) == (",", NBSP, "jıl")
    assert kaa.date_text(2021, 10, 15) == "2021-jıl 15-oktyabr"
    assert [kaa.date_text(2027, month, 1).split("-")[-1] for month in (1, 9, 12)] == [
        "yanvar",
        "sentyabr",
        "dekabr",
    ]
    # the Karakalpak letters, never a Cyrillic or CLDR fallback
    written = " ".join([*kaa.WEEKDAYS, kaa.DAY, kaa.YEAR, date_text(date(2027, 4, 12), "kaa")])
    assert "M04" not in written and not any("\u0400" <= char <= "\u04ff" for char in written)
    assert {"ú", "á", "ı"} <= set(written)


# -- typed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["да", "Да", "ha", "HA", "ҳа", "awa", "ий", "yes", "y", "true", "1", "объявлена"],
)
def test_yes_as_officers_type_it(typed: str) -> None:
    assert parse_boolean(typed, {"ru": ["объявлена", "не объявлена"]}) is True


@pytest.mark.parametrize(
    "typed",
    ["нет", "yoʻq", "yo'q", "yo‘q", "yo`q", "yoq", "йўқ", "yaq", "joq", "no", "false", "0"],
)
def test_no_as_officers_type_it(typed: str) -> None:
    assert parse_boolean(typed) is False


@pytest.mark.parametrize("typed", ["maybe", "", "  ", "да нет", "2"])
def test_neither_yes_nor_no_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_boolean(typed)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1200", 1200),
        ("1 200", 1200),
        (f"1{NBSP}200", 1200),
        ("1,200", 1200),
        ("12 000 000", 12000000),
        ("-14", -14),
        ("\u221214", -14),  # the minus sign
        ("4,0", 4),
    ],
)
def test_whole_numbers_as_typed(typed: str, value: int) -> None:
    assert parse_integer(typed) == value


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("4,12", "it has a decimal part"), ("lots", ""), ("12 34", ""), ("", "")],
)
def test_a_whole_number_that_is_not_says_why(typed: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_integer(typed)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("4,12", 4.12),
        ("4.12", 4.12),
        ("1 200", 1200.0),
        (f"1{NBSP}200,5", 1200.5),
        ("1,200.5", 1200.5),
        ("1.200,5", 1200.5),
        ("1,200,000", 1200000.0),
        ("-3,5", -3.5),
        (",5", 0.5),
        ("4,120", 4.12),  # one comma is the decimal mark, whatever follows it
    ],
)
def test_decimals_as_typed(typed: str, value: float) -> None:
    assert parse_decimal(typed) == value


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("4,1,2", "it has more than one decimal mark"),
        ("12.04.2027", "it looks like a date"),
        ("inf", ""),
        ("nan", ""),
        ("1e5", ""),
        ("4,", ""),
        ("4 12", ""),
    ],
)
def test_a_number_that_is_not_says_why(typed: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decimal(typed)
    assert str(caught.value) == reason


def test_dates_and_times_as_typed() -> None:
    assert parse_date("12.04.2027") == parse_date("2027-04-12") == date(2027, 4, 12)
    assert parse_date(" 1.4.2027 ") == date(2027, 4, 1)
    assert parse_time("17:40") == time(17, 40)
    assert parse_time("7:05:30") == time(7, 5, 30)


@pytest.mark.parametrize(
    "typed",
    [
        "12.04.2027 17:40",
        "2027-04-12 17:40",
        "12.04.2027, 17:40",
        "17:40 12.04.2027",
        "2027-04-12T17:40",
        "2027-04-12T17:40:00+05:00",
        "2027-04-12 12:40Z",
        "2027-04-12T12:40:00.000000Z",  # as the record keeps it
    ],
)
def test_date_times_as_typed_mean_one_moment(typed: str) -> None:
    assert parse_datetime(typed, TASHKENT) == MOMENT


def test_an_offset_wins_over_the_zone() -> None:
    moment = parse_datetime("12.04.2027 17:40+03:00", TASHKENT)
    assert moment == datetime(2027, 4, 12, 14, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("17:40", datetime(2027, 4, 12, 17, 40)),  # later today
        ("09:00", datetime(2027, 4, 12, 9, 0)),  # earlier today
        ("04:10", datetime(2027, 4, 13, 4, 10)),  # after midnight: tomorrow is nearer
    ],
)
def test_a_time_alone_is_the_nearest_such_moment(typed: str, expected: datetime) -> None:
    now = datetime(2027, 4, 12, 20, 0, tzinfo=ZoneInfo(TASHKENT))
    assert parse_datetime(typed, TASHKENT, now) == expected.replace(tzinfo=ZoneInfo(TASHKENT))


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("31.02.2027 10:00", "month 02 of 2027 has 28 days"),
        ("29.02.2028 10:00", None),  # a leap year has it
        ("12.13.2027 10:00", "there is no month 13"),
        ("12.04.27 10:00", "write the year in full, e.g. 12.04.2027"),
        ("12.04.2027 25:00", "hours go from 00 to 23"),
        ("12.04.2027 17:60", "minutes and seconds go from 00 to 59"),
        ("0001-01-01 00:00", "the year must be between 1900 and 2200"),
        ("12.04.2027", "give the time too, e.g. 12.04.2027 17:40"),
        ("17:40", "give the date too, e.g. 12.04.2027 17:40"),
        ("12.04.2027 17:40+25:00", "`+25:00` is not a UTC offset"),
        ("tomorrow", ""),
        ("12/04/2027 17:40", ""),
    ],
)
def test_a_date_time_that_is_not_says_why(typed: str, reason: str | None) -> None:
    if reason is None:
        assert parse_datetime(typed, TASHKENT).day == 29
        return
    with pytest.raises(InvalidInput) as caught:
        parse_datetime(typed, TASHKENT)
    assert str(caught.value) == reason


def test_names_are_compared_as_meant() -> None:
    assert name_key("Qońırat") == name_key("qonirat") == name_key("QOŃIRAT") == "qonirat"
    assert name_key("Qoʻngʻirot") == name_key("Qo'ng'irot") == name_key("qongirot")
    assert name_key("  Ellikqalʼa ") == name_key("Ellikqala")
    assert name_key("Кунград") == name_key("КУНГРАД")
    assert name_key("Nukus city") != name_key("Nukus")
