"""The read model's data of one incident: its line on the board, its timers ahead, its
statements' clearance, and all that `show` shows. Plain frozen data, built by `readmodel`.

Apart from the board's classes (board.py), which `show` does not load; both are importable
from `readmodel` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crisiscomm.store.rows import EventRow

__all__ = ["Clearance", "Detail", "IncidentLine", "TimerLine"]


@dataclass(frozen=True)
class Clearance:
    """One statement's clearance: who approved its newest version, who it still waits for."""

    statement: str
    version: int
    approved: list[tuple[str, str, datetime]]  # (role title, actor, when)
    waiting: list[str]  # "Head of press (Dilnoza Yusupova)", in chain order
    released_at: datetime | None
    texts: dict[str, str] = field(default_factory=dict)  # language -> text


@dataclass(frozen=True)
class TimerLine:
    """A timer ahead: what it is, when, and who it will reach."""

    kind: str
    key: str
    due_at: datetime
    reaches: str
    next_try_at: datetime | None = None  # its firing failed: not tried again before this
    label: str = ""  # what it is, in words: "escalation step 2", "deadline"


@dataclass(frozen=True)
class IncidentLine:
    """One incident as the status table and the dashboard show it."""

    id: str
    title: str
    playbook: str
    timezone: str
    severity: str
    state: str
    state_title: str
    phase: str
    state_entered_at: datetime
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    owner: str  # the owner role's title and its first people
    next_due: TimerLine | None
    clearances: list[Clearance]
    escalations: int  # escalations and reminders fired in the current state
    acknowledged_by: list[str]
    dead_letters: int
    owner_role: str = ""  # the owner role's title alone
    # released statements whose public copies (site, website, Telegram channel) failed to go
    # out: a dead row, or one waiting for its next try after a failure
    not_published: int = 0


@dataclass(frozen=True)
class Detail:
    """Everything `show` shows about one incident."""

    line: IncidentLine
    phases: list[str]
    checklist: list[tuple[str, str, bool, str, bool]]  # (id, text, required, done by, done)
    facts: dict[str, str]  # name -> the value as a person reads it
    timers: list[TimerLine]
    possible: list[str]
    events: list[tuple[EventRow, str, str]]  # (event, who by full name, what in words)
    languages: list[str]
