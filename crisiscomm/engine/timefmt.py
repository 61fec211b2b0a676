"""Times as people read them: in the playbook's (or office's) IANA time zone.

Stored times are UTC; a screen converts them at the edge. A screen that shows several times
names the zone once (`times_header`: "Times: Asia/Tashkent (UTC+05:00)") and then writes each
time as `04.12.2026 17:40`, or `17:40` alone on the day the screen is about (`local_text`
with `now`). A time standing alone in a message carries its zone (`zoned_text`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crisiscomm.i18n import _

__all__ = [
    "clock_text",
    "humanize",
    "local_text",
    "statement_time",
    "times_header",
    "zone_label",
    "zoned_text",
]

DATE_TIME = "%d.%m.%Y %H:%M"


def statement_time(moment: datetime, zone: str) -> str:
    """A time for a public statement: `29.11.2026 15:30` in the playbook's zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime(DATE_TIME)


def _offset(moment: datetime, zone: str) -> str:
    """`UTC+05:00`, `UTC-03:30`, `UTC` for the zone's offset at `moment`."""
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_label(zone: str, moments: Iterable[datetime] = ()) -> str:
    """The zone by name and its offset from UTC: `Asia/Tashkent (UTC+05:00)`; a zone that
    changes offset between the `moments` shown lists each (`UTC+01:00, UTC+02:00`)."""
    offsets = list(dict.fromkeys(_offset(moment, zone) for moment in moments))
    if not offsets:
        from crisiscomm.clock import SystemClock

        offsets = [_offset(SystemClock().now(), zone)]
    if offsets == ["UTC"] and zone in ("UTC", "Etc/UTC"):
        return "UTC"
    return f"{zone} ({', '.join(offsets)})"


def times_header(zone: str, moments: Iterable[datetime] = ()) -> str:
    """The line that names the zone of every time below it, once."""
    return _("Times: {zone}").format(zone=zone_label(zone, moments))


def local_text(moment: datetime, zone: str, *, now: datetime | None = None) -> str:
    """A time for the officer, in `zone`: `04.12.2026 17:40`, or `17:40` when it falls on
    the same local day as `now`. The zone is named once elsewhere on the screen."""
    local = moment.astimezone(ZoneInfo(zone))
    if now is not None and now.astimezone(ZoneInfo(zone)).date() == local.date():
        return local.strftime("%H:%M")
    return local.strftime(DATE_TIME)


def clock_text(moment: datetime, zone: str) -> str:
    """A ticking clock in `zone`: `17:40:05`."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")


def zoned_text(moment: datetime, zone: str) -> str:
    """A time standing alone, with its zone: `04.12.2026 17:40 (Asia/Tashkent, UTC+05:00)`."""
    offset = _offset(moment, zone)
    where = offset if zone in ("UTC", "Etc/UTC") else f"{zone}, {offset}"
    return f"{statement_time(moment, zone)} ({where})"


def humanize(delta: timedelta) -> str:
    """`in 12 min`, `OVERDUE 1 h 05 min` style durations (delta = due - now)."""
    seconds = int(delta.total_seconds())
    overdue = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = _("{d} d {h} h").format(d=days, h=hours)
    elif hours:
        text = _("{h} h {m:02d} min").format(h=hours, m=minutes)
    elif minutes:
        text = _("{m} min").format(m=minutes)
    else:
        text = _("{s} s").format(s=seconds)
    return _("OVERDUE {d}").format(d=text) if overdue else _("in {d}").format(d=text)
