"""The rows the store reads and writes: plain frozen dataclasses, times aware UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ChainProblem",
    "EventRow",
    "IncidentRow",
    "NewEvent",
    "NewTimer",
    "OutboxMessage",
    "OutboxRow",
    "TimerRow",
]


@dataclass(frozen=True)
class IncidentRow:
    """One incident: where it stands. `data` is the engine's JSON (facts, checklist,
    statements, approvals, acknowledgements); the store never looks inside it."""

    id: str  # "INC-2026-0042"; "" before the store allocates it
    playbook_id: str
    playbook_hash: str  # sha256 of the pinned, compiled playbook content
    title: str
    severity: str
    state: str
    generation: int  # +1 on every state entry; the fencing token of its timers
    state_entered_at: datetime
    opened_at: datetime
    closed_at: datetime | None
    opened_by: str
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 0  # +1 on every commit (optimistic concurrency)
    event_count: int = 0  # seq of the last event
    last_hash: str = ""  # hash of the last event


@dataclass(frozen=True)
class NewEvent:
    """An event to append: what happened, when, by whom."""

    at: datetime
    actor: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRow:
    """An event as stored, with its place in the hash chain."""

    incident_id: str
    seq: int
    at: datetime
    actor: str
    type: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


# Timers that belong to the incident, not to the state entry that made them: a promise of
# the next public update, a statement version's clearance deadline. A state change leaves
# them standing (they are not fenced by `generation`); closing the incident retires them.
INCIDENT_TIMER_KINDS = frozenset({"promise", "clearance"})


@dataclass(frozen=True)
class NewTimer:
    """A timer to create for the incident's current state entry (its generation)."""

    kind: str  # "deadline" | "escalation" | "reminder" | "cadence" | "promise" | "clearance"
    key: str  # unique within the state entry, e.g. "escalation:2"
    due_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimerRow:
    """A timer as stored."""

    id: int
    incident_id: str
    kind: str
    key: str
    due_at: datetime
    generation: int
    fired_at: datetime | None
    retired_at: datetime | None
    late_by_seconds: float | None
    data: dict[str, Any]
    failures: int = 0  # firings that failed (0002_timer_retry.sql)
    next_try_at: datetime | None = None  # after a failed firing: not tried again before


@dataclass(frozen=True)
class OutboxMessage:
    """A notification to deliver after the commit; `idempotency_key` is unique."""

    idempotency_key: str
    channel: str
    recipient: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ChainProblem:
    """The first event of an incident whose hash chain does not hold."""

    incident_id: str
    seq: int
    problem: str


@dataclass(frozen=True)
class OutboxRow:
    """An outbox row as stored, with where its delivery stands.

    `attempts` counts the deliveries begun (a taken row counts before it is sent); a
    `pending` row is sent at `next_attempt_at` or later; a `dead` one waits for a person
    (`crisiscomm outbox retry ID`). `last_error` never holds a secret.
    """

    id: int
    incident_id: str
    idempotency_key: str
    channel: str
    recipient: str
    payload: dict[str, Any]
    status: str  # "pending" | "sent" | "dead"
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    item_id: str | None = None  # a register item's row (then `incident_id` is the item's id)
    # a released statement's row: its payload as stored names the languages of its texts
    # instead of holding them (store/outbox.py `TEXTS_FROM`); as read, it holds them
    texts_from: tuple[str, ...] = ()
