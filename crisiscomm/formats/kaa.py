"""Karakalpak in Latin script, as official texts write dates and numbers.

CLDR has no real data for it: Babel writes 12 April 2027 as "2027 M04 12" for `kaa_Latn`
and falls back to Cyrillic for `kaa`. This small table is the project's own, after the
acts and news of the Council of Ministers of the Republic of Karakalpakstan: "2021-jıl
15-oktyabrdegi qararı", "1932-jıl 20-martta", "02.03.2024, Shembi". The year comes first
with the word `jıl`; the day is an ordinal (`12-`) joined to the month's name, which is
written in lower case inside a date and capitalised on its own (a heading, a calendar);
numbers group thousands with a no-break space and take a decimal comma, as in Uzbek.
"""

from __future__ import annotations

__all__ = [
    "DAY",
    "DECIMAL",
    "GROUP",
    "HOUR",
    "MINUTE",
    "MONTHS",
    "MONTHS_STANDALONE",
    "SECOND",
    "WEEKDAYS",
    "YEAR",
    "date_text",
]

# the months inside a date: "12-aprel"; Karakalpak does not decline them there
MONTHS = (
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
# a month on its own (a heading, a calendar): capitalised
MONTHS_STANDALONE = tuple(month.capitalize() for month in MONTHS)
# Monday first, as `date.weekday()` counts
WEEKDAYS = ("Dúyshembi", "Siyshembi", "Sárshembi", "Piyshembi", "Juma", "Shembi", "Ekshembi")
YEAR = "jıl"
# duration units: Karakalpak, like Uzbek, keeps the noun singular after a number
DAY, HOUR, MINUTE, SECOND = "kún", "saat", "minut", "sekund"
DECIMAL = ","
GROUP = "\u00a0"  # a no-break space: a number never breaks over two lines


def date_text(year: int, month: int, day: int) -> str:
    """`2027-jıl 12-aprel`."""
    return f"{year}-{YEAR} {day}-{MONTHS[month - 1]}"
