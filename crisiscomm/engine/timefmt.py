"""Times as people read them: in the playbook's IANA time zone, the zone named."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crisiscomm.i18n import _

__all__ = ["humanize", "local_text", "statement_time"]


def statement_time(moment: datetime, zone: str) -> str:
    """A time for a public statement: `29.11.2026 15:30` in the playbook's zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")


def local_text(moment: datetime, zone: str) -> str:
    """A time for the officer: `2026-11-29 15:30 Asia/Tashkent`."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M ") + zone


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
