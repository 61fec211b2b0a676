"""Working days and public holidays, and the deadline a norm gives an item.

A norm's duration is one of `{hours: N}`, `{days: N}` (calendar days; a deadline that falls
on a day off moves to the end of the next working day, as the law on appeals counts),
`{working_days: N}` (the end of the N-th working day after receipt) or `{months: N}`.
Day-based deadlines end at the end of the local day (23:59:59.999999 in the office's zone).
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["WEEKDAYS", "Holiday", "WorkCalendar", "deadline"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Holiday:
    """A public holiday; `estimated` when its date is not yet announced (lunar holidays)."""

    day: date
    name: str
    estimated: bool = False


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days: not a weekend day, not a public holiday."""

    timezone: str = "Asia/Tashkent"
    weekend: frozenset[int] = frozenset({5, 6})
    holidays: tuple[Holiday, ...] = ()
    days_off: frozenset[date] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days_off", frozenset(h.day for h in self.holidays))

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> WorkCalendar:
        """The calendar of a schema-valid `crisiscomm-calendar` document."""
        holidays = tuple(
            Holiday(date.fromisoformat(str(h["date"])), str(h["name"]), bool(h.get("estimated")))
            for h in content.get("holidays") or []
        )
        return cls(
            timezone=str(content.get("timezone") or "Asia/Tashkent"),
            weekend=frozenset(WEEKDAYS.index(str(d)) for d in content.get("weekend") or []),
            holidays=holidays,
        )

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is neither a weekend day nor a public holiday."""
        return day.weekday() not in self.weekend and day not in self.days_off

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first one after it."""
        for _ in range(366):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("a calendar without a working day in a year")


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, gregorian.monthrange(year, month)[1]))


def deadline(start: datetime, duration: Mapping[str, int], work: WorkCalendar) -> datetime:
    """The deadline `duration` after `start` (aware UTC), counted as the module says."""
    zone = ZoneInfo(work.timezone)
    if "hours" in duration:
        return start + timedelta(hours=int(duration["hours"]))
    local = start.astimezone(zone).date()
    if "working_days" in duration:
        day, left = local, int(duration["working_days"])
        while left > 0:
            day += timedelta(days=1)
            if work.is_working_day(day):
                left -= 1
        return _end_of(day, zone)
    if "months" in duration:
        return _end_of(work.next_working_day(_add_months(local, int(duration["months"]))), zone)
    return _end_of(work.next_working_day(local + timedelta(days=int(duration["days"]))), zone)
