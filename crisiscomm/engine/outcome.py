"""What one engine step produces, committed by the store in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from crisiscomm.store.rows import IncidentRow, NewEvent, NewTimer, OutboxMessage

__all__ = ["Outcome"]


@dataclass(frozen=True)
class Outcome:
    """The incident after a step, and everything the step appends."""

    incident: IncidentRow
    events: list[NewEvent]
    timers: list[NewTimer] = field(default_factory=list)
    retire_timers: bool = False
    outbox: list[OutboxMessage] = field(default_factory=list)
    statements_changed: bool = False  # drafts, edits, approvals or releases were recorded
