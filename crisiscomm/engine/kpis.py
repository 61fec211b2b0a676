"""KPIs computed from an incident's event log: the one implementation that drills' after-action
reports (drill/report.py), a real incident's (report/incident.py) and the period reports
(report/) all read.

Durations are seconds from the opening of the incident; `None` means it never happened.
Everything here reads only the event types store/reports.py gives period reports
(`KPI_EVENT_TYPES`), so a drill and a period report measure an incident alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crisiscomm.clock import parse_utc
from crisiscomm.engine.context import EXERCISE_CONTROL, SYSTEM_ACTOR
from crisiscomm.store.rows import EventRow

__all__ = [
    "LEADERSHIP_ROLES",
    "VERIFICATION_STATES",
    "Promise",
    "approval_waits",
    "compute_kpis",
    "escalations",
    "leadership_reached",
    "promises",
]

VERIFICATION_STATES = frozenset({"verification", "verify"})
LEADERSHIP_ROLES = frozenset({"head_of_press", "minister_office"})
# the checklist item by which an officer records having reached a leader (`reach_head_of_press`)
REACH_ITEM = "reach_"
SYSTEM_ACTORS = frozenset({SYSTEM_ACTOR, EXERCISE_CONTROL})
# a leader's own acts on the record, each proof that they were reached
LEADER_ACTS = frozenset(
    {"acknowledged", "checked", "statement.approved", "statement.released", "transition"}
)


@dataclass(frozen=True)
class Promise:
    """A public promise of the next update, made by a release, and whether it was kept.

    `kept_at` is the next release (any statement) when it came by `due_at`; `broken` is
    True when the next release came later or never; `lapsed` promises fell due after the
    incident closed (closing ends the rhythm) and count neither way.
    """

    statement: str
    version: int
    made_at: datetime
    due_at: datetime
    next_release_at: datetime | None
    lapsed: bool = False

    @property
    def broken(self) -> bool:
        """Not kept: the next release came after the due time, or never."""
        return not self.lapsed and (
            self.next_release_at is None or self.next_release_at > self.due_at
        )

    @property
    def kept_at(self) -> datetime | None:
        """When the promise was kept (the next release, on time); None if it was not."""
        return None if self.broken or self.lapsed else self.next_release_at


def _seconds(start: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else (moment - start).total_seconds()


def escalations(events: Sequence[EventRow]) -> list[EventRow]:
    """The escalation steps that fired, a state's or a stuck clearance step's."""
    return [e for e in events if e.type in ("escalation", "clearance.overdue")]


def compute_kpis(
    events: Sequence[EventRow],
    *,
    until: datetime | None = None,
) -> dict[str, float | None]:
    """Every KPI the event log supports, keyed by its name (`clearance_time.ROLE` per approver).

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
    kpis["time_to_notify_leadership"] = _seconds(opened, leadership_reached(events))
    released = [e for e in events if e.type == "statement.released"]
    kpis["time_to_first_statement"] = _seconds(opened, released[0].at if released else None)
    kpis.update(_clearance(events))
    kept = [p for p in promises(events, events[-1].at if until is None else until) if not p.lapsed]
    kpis["cadence_adherence"] = sum(not p.broken for p in kept) / len(kept) if kept else None
    kpis["escalations_fired"] = float(len(escalations(events)))
    kpis["updates_missed"] = float(sum(e.type == "update.missed" for e in events))
    kpis["ack_latency"] = _ack_latency(events)
    return kpis


def approval_waits(events: Sequence[EventRow]) -> list[tuple[EventRow, float]]:
    """Each approval of a statement version, with the seconds it waited since that text
    was drafted or edited (the clearance time of that approver, for that version)."""
    written: dict[str, datetime] = {}  # version hash -> when that text was drafted or edited
    waits = []
    for event in events:
        if event.type in ("statement.drafted", "statement.edited"):
            written[str(event.data.get("hash"))] = event.at
        elif event.type == "statement.approved":
            since = written.get(str(event.data.get("hash")))
            if since is not None:
                waits.append((event, (event.at - since).total_seconds()))
    return waits


def _clearance(events: Sequence[EventRow]) -> dict[str, float | None]:
    per_role: dict[str, float] = {}
    for event, waited in approval_waits(events):
        role = str(event.data.get("role"))
        per_role[role] = max(per_role.get(role, 0.0), waited)
    result: dict[str, float | None] = {
        f"clearance_time.{r}": s for r, s in sorted(per_role.items())
    }
    result["clearance_time"] = max(per_role.values()) if per_role else None
    return result


def promises(events: Sequence[EventRow], until: datetime) -> list[Promise]:
    """Every promise of a next update that had come due by `until` (the end of the record),
    in order: those falling due later are not yet due and left out."""
    released = [e for e in events if e.type == "statement.released"]
    closed = next((e.at for e in events if e.type == "closed"), None)
    found = []
    for index, event in enumerate(released):
        text = event.data.get("next_update_at")
        if not text:
            continue
        due = parse_utc(str(text))
        following = released[index + 1].at if index + 1 < len(released) else None
        if following is None and due > until:
            continue  # the promise falls after the end of the record: not yet due
        found.append(
            Promise(
                statement=str(event.data.get("statement")),
                version=int(event.data.get("version") or 0),
                made_at=event.at,
                due_at=due,
                next_release_at=following,
                # closing the incident retires its timers: a promise due after it lapses
                lapsed=closed is not None
                and due > closed
                and (following is None or following > closed),
            )
        )
    return found


def leadership_reached(events: Sequence[EventRow]) -> datetime | None:
    """When a person of the leadership (`LEADERSHIP_ROLES`) was first known to be reached.

    Automatic notices (the opening's, the escalation ladder's) are sent, not known to
    arrive, so they do not count. What counts: an officer's record of having reached one
    (`reach_head_of_press` checked), an acknowledgement by a leader, or a leader's own act
    on the incident (approving, releasing, moving it on). A leader is whoever acted in a
    leadership role in this incident's record (approvals and releases carry the role).
    """
    leaders = {
        e.actor
        for e in events
        if str(e.data.get("role") or "") in LEADERSHIP_ROLES and e.actor not in SYSTEM_ACTORS
    }
    for event in events:
        if event.actor in SYSTEM_ACTORS:
            continue
        item = str(event.data.get("item") or "")
        if event.type == "checked" and item.removeprefix(REACH_ITEM) in LEADERSHIP_ROLES:
            return event.at
        if event.type in LEADER_ACTS and event.actor in leaders:
            return event.at
    return None


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
