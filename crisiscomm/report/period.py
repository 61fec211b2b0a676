"""Report periods: [start, end) in the office's time zone, as officers write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crisiscomm.errors import UsageError
from crisiscomm.i18n import _

__all__ = ["Period", "choose_period", "months_of"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """The days first..last (inclusive), local to `zone`."""

    first: date
    last: date
    zone: str

    @property
    def start(self) -> datetime:
        """The first moment of the period (aware)."""
        return datetime.combine(self.first, time(), ZoneInfo(self.zone))

    @property
    def end(self) -> datetime:
        """The first moment after the period (aware)."""
        return datetime.combine(self.last + timedelta(days=1), time(), ZoneInfo(self.zone))

    @property
    def days(self) -> int:
        """How many days it spans."""
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before; a calendar month's is the month before."""
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            months = len(months_of(self))
            year, month = self.first.year, self.first.month - months
            while month < 1:
                year, month = year - 1, month + 12
            return Period(date(year, month, 1), self.first - timedelta(days=1), self.zone)
        return Period(
            self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.zone
        )

    def label(self) -> str:
        """`2027-04-01 – 2027-04-30`."""
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def months_of(period: Period) -> list[str]:
    """The calendar months (`2027-04`) the period touches, in order."""
    months: list[str] = []
    year, month = period.first.year, period.first.month
    while (year, month) <= (period.last.year, period.last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _day(text: str, option: str) -> date:
    try:
        if not _DATE.match(text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            _("{option} `{text}` is not a date").format(option=option, text=text),
            hint=_("write it as 2027-04-01"),
        ) from None


def _month(text: str, zone: str) -> Period:
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UsageError(
            _("--month `{text}` is not a month").format(text=text),
            hint=_("write it as 2027-04"),
        )
    year, month = int(match.group(1)), int(match.group(2))
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(date(year, month, 1), following - timedelta(days=1), zone)


def choose_period(
    *, start: str | None, end: str | None, month: str | None, zone: str, today: date
) -> Period:
    """The period the options name: --month; --from and --to (inclusive days, either
    alone: until today, or from the first of --to's month); none: the last full month."""
    if month is not None:
        if start is not None or end is not None:
            raise UsageError(
                _("--month cannot be combined with --from or --to"),
                hint=_("give a month, or the first and last day"),
            )
        return _month(month, zone)
    if start is None and end is None:
        this_month = today.replace(day=1)
        last_month = this_month - timedelta(days=1)
        return Period(last_month.replace(day=1), last_month, zone)
    last = _day(end, "--to") if end is not None else today
    first = _day(start, "--from") if start is not None else last.replace(day=1)
    if last < first:
        raise UsageError(
            _("the period ends ({last}) before it starts ({first})").format(
                last=last.isoformat(), first=first.isoformat()
            ),
            hint=_("give --from the first day and --to the last day"),
        )
    return Period(first, last, zone)
