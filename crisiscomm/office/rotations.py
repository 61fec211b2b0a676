"""Who holds a duty role when: a cycle handing over daily or weekly at a local time, or
explicit shifts, with overrides (leave, swaps) on top; the PagerDuty/GoAlert schedule idea.

Hand-overs happen at the office's local wall-clock time: a weekly hand-over at 09:00 stays
at 09:00 across a daylight-saving change (Uzbekistan has none today; the office may move).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Gap", "gaps", "local_time", "on_duty"]

PERIODS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}


def local_time(text: str) -> datetime:
    """`2026-12-10 09:00` as a naive local date and time; ValueError if it is none."""
    return datetime.fromisoformat(text.replace("T", " "))


def on_duty(rotation: Mapping[str, Any], at: datetime, zone: ZoneInfo) -> str | None:
    """The person id on duty at `at` (aware), or None when nobody is."""
    local = at.astimezone(zone).replace(tzinfo=None)
    for override in reversed(rotation.get("overrides") or []):  # the last one written wins
        if local_time(override["from"]) <= local < local_time(override["until"]):
            return str(override["person"])
    if "shifts" in rotation:
        for shift in rotation["shifts"]:
            if local_time(shift["from"]) <= local < local_time(shift["until"]):
                return str(shift["person"])
        return None
    hour, minute = (int(part) for part in str(rotation["handoff"]).split(":"))
    start = datetime.combine(date.fromisoformat(rotation["start"]), time(hour, minute))
    order = list(rotation.get("order") or [])
    if local < start or not order:
        return None
    turns = (local - start) // PERIODS[rotation["every"]]
    return str(order[turns % len(order)])


@dataclass(frozen=True)
class Gap:
    """A stretch of explicit shifts nobody covers (or two shifts that overlap)."""

    index: int  # the shift after the gap
    start: datetime
    end: datetime
    overlap: bool = False


def gaps(shifts: list[Mapping[str, Any]]) -> list[Gap]:
    """Gaps and overlaps between consecutive shifts, in time order."""
    ordered = sorted(enumerate(shifts), key=lambda item: local_time(item[1]["from"]))
    found = []
    for (_i, before), (index, after) in pairwise(ordered):
        ends, starts = local_time(before["until"]), local_time(after["from"])
        if starts > ends:
            found.append(Gap(index, ends, starts))
        elif starts < ends:
            found.append(Gap(index, starts, ends, overlap=True))
    return found
