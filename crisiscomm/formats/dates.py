"""Dates, times, date-times and durations: as each language writes them, and as officers
type them.

Written (12 April 2027, 17:40 in the playbook's zone):

| language | date-time |
|---|---|
| kaa | `2027-jıl 12-aprel, 17:40` (the project's table, `formats.kaa`) |
| uz | `2027-yil 12-aprel, 17:40` (CLDR month names, the year-first order of official texts) |
| ru | `12 апреля 2027 г., 17:40` (CLDR) |
| en | `April 12, 2027, 5:40 PM` (CLDR) |

Typed: `12.04.2027` or `2027-04-12` for a date, `17:40` for a time, both for a date-time
(`12.04.2027 17:40`, `2027-04-12T17:40+05:00`), in the playbook's zone unless an offset is
given; a time alone is the nearest such moment to now (within 12 hours either way).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from crisiscomm.formats.kaa import DAY, HOUR, MINUTE, MONTHS, SECOND, YEAR
from crisiscomm.formats.kaa import date_text as karakalpak_date
from crisiscomm.formats.locales import babel_locale, is_karakalpak, is_uzbek_latin
from crisiscomm.formats.typed import InvalidInput
from crisiscomm.i18n import _

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "date_text",
    "datetime_text",
    "duration_text",
    "month_text",
    "parse_date",
    "parse_datetime",
    "parse_time",
    "time_text",
]

# a year outside these is a typo, and one that no time zone can show
FIRST_YEAR, LAST_YEAR = 1900, 2200
# Uzbek official texts put the year first: "2027-yil 12-aprel" (CLDR: "12-aprel, 2027")
UZBEK_DATE = "y-'yil' d-MMMM"

_DATE = (
    r"(?:(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{2,4})"
    r"|(?P<iso_year>\d{4})-(?P<iso_month>\d{1,2})-(?P<iso_day>\d{1,2}))"
)
_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
_ZONE = r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)"
# patterns, not compiled here: re compiles (and caches) each when a typed value first needs
# it, so the commands that only write values never pay for them
_TIME_ONLY = rf"(?i:{_TIME}\s*{_ZONE}?)"
_DATE_TIME = rf"(?i:{_DATE}(?:\s*[T,]\s*|\s+){_TIME}\s*{_ZONE}?)"
_TIME_DATE = rf"{_TIME}(?:\s*,\s*|\s+){_DATE}"


# cached: a statement's texts name the same few days and times in each language, and a
# Babel format costs tens of microseconds of every draft; the answers are immutable strings
@lru_cache(maxsize=1024, typed=True)
def date_text(day: date, language: str) -> str:
    """A date as `language` writes it in running text: `2027-jıl 12-aprel`, `12 апреля
    2027 г.`."""
    if is_karakalpak(language):
        return karakalpak_date(day.year, day.month, day.day)
    locale = babel_locale(language)
    if locale is None:
        return day.strftime("%d.%m.%Y")
    from babel.dates import format_date

    pattern = UZBEK_DATE if is_uzbek_latin(language) else "long"
    return format_date(day, pattern, locale=locale)


def month_text(year: int, month: int, language: str) -> str:
    """A month of a year as a heading or a list names it: `2027-jıl mart`, `2027-yil mart`,
    `март 2027 г.`, `March 2027` (`2027-03` in a language without CLDR data)."""
    if is_karakalpak(language):
        return f"{year}-{YEAR} {MONTHS[month - 1]}"
    locale = babel_locale(language)
    if locale is None:
        return f"{year:04d}-{month:02d}"
    from babel.dates import format_date, format_skeleton

    if is_uzbek_latin(language):  # year first, as in its dates (CLDR: "mart, 2027")
        return format_date(date(year, month, 1), "y-'yil' MMMM", locale=locale)
    return format_skeleton("yMMMM", date(year, month, 1), locale=locale)


def time_text(moment: time, language: str) -> str:
    """A time of day as `language` writes it: `17:40`, `5:40 PM`."""
    # to the minute, as written ("short" in every CLDR locale), so that the cache meets the
    # same minute again
    return _time_text(moment.replace(second=0, microsecond=0), language)


@lru_cache(maxsize=1024)
def _time_text(moment: time, language: str) -> str:
    """`time_text` of a time already cut to the minute."""
    locale = None if is_karakalpak(language) else babel_locale(language)
    if locale is None:
        return moment.strftime("%H:%M")
    from babel.dates import format_time

    return format_time(moment, "short", locale=locale)


def datetime_text(moment: datetime, language: str, zone: str) -> str:
    """A moment in `zone` as `language` writes it: `2027-jıl 12-aprel, 17:40`."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{date_text(local.date(), language)}, {time_text(local.time(), language)}"


def duration_text(delta: timedelta, language: str) -> str:
    """A duration in days, hours and minutes (seconds under a minute), as `language`
    writes it: `1 saat 30 minut`, `1 час 30 минут`, `2 days 3 hours`."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    amounts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    units = [(n, unit) for n, unit in amounts if n] or [(seconds, "second")]
    if is_karakalpak(language):
        words = {"day": DAY, "hour": HOUR, "minute": MINUTE, "second": SECOND}
        return " ".join(f"{n} {words[unit]}" for n, unit in units)
    locale = babel_locale(language)
    if locale is None:
        short = {"day": "d", "hour": "h", "minute": "min", "second": "s"}
        return " ".join(f"{n} {short[unit]}" for n, unit in units)
    from babel.units import format_unit

    return " ".join(format_unit(n, f"duration-{unit}", locale=locale) for n, unit in units)


def _date(match: re.Match[str]) -> date:
    if match["iso_year"]:
        year, month, day = int(match["iso_year"]), int(match["iso_month"]), int(match["iso_day"])
    else:
        if len(match["year"]) != 4:
            raise InvalidInput(_("write the year in full, e.g. 12.04.2027"))
        year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            _("the year must be between {first} and {last}").format(
                first=FIRST_YEAR, last=LAST_YEAR
            )
        )
    if not 1 <= month <= 12:
        raise InvalidInput(_("there is no month {month}").format(month=month))
    last = ((date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)).day
    if not 1 <= day <= last:
        raise InvalidInput(
            _("month {month} of {year} has {days} days").format(
                month=f"{month:02d}", year=year, days=last
            )
        )
    return date(year, month, day)


def _time(match: re.Match[str]) -> time:
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23:
        raise InvalidInput(_("hours go from 00 to 23"))
    if minute > 59 or second > 59:
        raise InvalidInput(_("minutes and seconds go from 00 to 59"))
    return time(hour, minute, second)


def _zone(match: re.Match[str], zone: str) -> tzinfo:
    offset = match.groupdict().get("zone")
    if not offset:
        return ZoneInfo(zone)
    if offset.upper() == "Z":
        return UTC
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise InvalidInput(_("`{offset}` is not a UTC offset").format(offset=offset))
    sign = -1 if offset[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_date(text: str) -> date:
    """A date as typed: `12.04.2027` or `2027-04-12`; InvalidInput otherwise."""
    match = re.fullmatch(_DATE, text.strip())
    if match is None:
        raise InvalidInput("")
    return _date(match)


def parse_time(text: str) -> time:
    """A time of day as typed: `17:40`, `7:05`, `17:40:30`; InvalidInput otherwise."""
    match = re.fullmatch(_TIME, text.strip())
    if match is None:
        raise InvalidInput("")
    return _time(match)


def parse_datetime(text: str, zone: str, now: datetime | None = None) -> datetime:
    """A moment as typed, aware: `12.04.2027 17:40`, `2027-04-12 17:40`,
    `2027-04-12T17:40:00+05:00`, `17:40 12.04.2027`, or `17:40` alone (the nearest such
    moment to `now`); local times are in `zone`. InvalidInput otherwise."""
    typed = text.strip()
    match = re.fullmatch(_DATE_TIME, typed) or re.fullmatch(_TIME_DATE, typed)
    if match is not None:
        local = datetime.combine(_date(match), _time(match))
        return local.replace(tzinfo=_zone(match, zone))
    match = re.fullmatch(_TIME_ONLY, typed)
    if match is not None:
        if now is None:
            raise InvalidInput(_("give the date too, e.g. 12.04.2027 {time}").format(time=typed))
        at, tz = _time(match), _zone(match, zone)
        today = now.astimezone(tz).date()
        candidates = [
            datetime.combine(today + timedelta(days=shift), at, tzinfo=tz) for shift in (-1, 0, 1)
        ]
        return min(candidates, key=lambda moment: abs(moment - now))
    match = re.fullmatch(_DATE, typed)
    if match is not None:
        _date(match)  # a date that does not exist says so first
        raise InvalidInput(_("give the time too, e.g. {date} 17:40").format(date=typed))
    raise InvalidInput("")
