"""KPIs computed from an incident's event log: the one implementation that drills' after-action
reports (drill/report.py) and the period reports (report/) both read.

Durations are seconds from the opening of the incident; `None` means it never happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from crisiscomm.store.rows import EventRow

__all__ = ["LEADERSHIP_ROLES", "VERIFICATION_STATES", "compute_kpis", "escalations"]

VERIFICATION_STATES = frozenset({"verification", "verify"})
LEADERSHIP_ROLES = frozenset({"head_of_press", "minister_office"})


def _seconds(start: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else (moment - start).total_seconds()


def escalations(events: Sequence[EventRow]) -> list[EventRow]:
    """The escalation steps that fired, a state's or a stuck clearance step's."""
    return [e for e in events if e.type in ("escalation", "clearance.overdue")]


def compute_kpis(
    events: Sequence[EventRow],
    *,
    leadership_notified_at: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, float | None]:
    """Every KPI the event log supports, keyed by its name (`clearance_time.ROLE` per approver).

    `leadership_notified_at` is when a notification first reached leadership (the drill
    knows it from its deliveries); without it, the first escalation to leadership counts.
    `until` is the end of the record (default: the last event's time); pass it when
    `events` holds only the types these KPIs read.
    """
    opened = events[0].at
    kpis: dict[str, float | None] = {}
    verified = next(
        (
            e.at
            for e in events
            if e.type == "transition" and e.data.get("from") in VERIFICATION_STATES
        ),
        None,
    )
    kpis["time_to_verification"] = _seconds(opened, verified)
    escalated = next(
        (
            e.at
            for e in events
            if e.type in ("escalation", "deadline.missed", "update.missed")
            and LEADERSHIP_ROLES & set(e.data.get("notified") or [])
        ),
        None,
    )
    candidates = [m for m in (leadership_notified_at, escalated) if m is not None]
    kpis["time_to_notify_leadership"] = _seconds(opened, min(candidates) if candidates else None)
    released = [e for e in events if e.type == "statement.released"]
    kpis["time_to_first_statement"] = _seconds(opened, released[0].at if released else None)
    kpis.update(_clearance(events))
    kpis["cadence_adherence"] = _cadence(released, events[-1].at if until is None else until)
    kpis["escalations_fired"] = float(len(escalations(events)))
    kpis["updates_missed"] = float(sum(e.type == "update.missed" for e in events))
    kpis["ack_latency"] = _ack_latency(events)
    return kpis


def _clearance(events: Sequence[EventRow]) -> dict[str, float | None]:
    written: dict[str, datetime] = {}  # version hash -> when that text was drafted or edited
    per_role: dict[str, float] = {}
    for event in events:
        if event.type in ("statement.drafted", "statement.edited"):
            written[str(event.data.get("hash"))] = event.at
        elif event.type == "statement.approved":
            since = written.get(str(event.data.get("hash")))
            if since is not None:
                role = str(event.data.get("role"))
                waited = (event.at - since).total_seconds()
                per_role[role] = max(per_role.get(role, 0.0), waited)
    result: dict[str, float | None] = {
        f"clearance_time.{r}": s for r, s in sorted(per_role.items())
    }
    result["clearance_time"] = max(per_role.values()) if per_role else None
    return result


def _cadence(released: Sequence[EventRow], until: datetime) -> float | None:
    from crisiscomm.clock import parse_utc

    promised = kept = 0
    for index, event in enumerate(released):
        text: Any = event.data.get("next_update_at")
        if not text:
            continue
        due = parse_utc(str(text))
        following = released[index + 1].at if index + 1 < len(released) else None
        if following is None and due > until:
            continue  # the promise falls after the end of the record: not yet due
        promised += 1
        kept += following is not None and following <= due
    return kept / promised if promised else None


def _ack_latency(events: Sequence[EventRow]) -> float | None:
    entered = events[0].at
    longest: float | None = None
    for event in events:
        if event.type == "transition":
            entered = event.at
        elif event.type == "acknowledged":
            waited = (event.at - entered).total_seconds()
            longest = waited if longest is None else max(longest, waited)
    return longest
