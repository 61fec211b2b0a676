"""What one exercise incident put on the record, as the after-action report lists it: the
statements released (each version, who released and who approved it, the text sent), the
promises of a next update (kept, late or never), and the timeline with repeats folded.

Each function takes one incident's events (and the playbook that names its people and
roles), so a drill of several incidents calls them once per incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.durations import format_duration
from crisiscomm.engine.kpis import promises
from crisiscomm.engine.timefmt import local_text
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store.rows import EventRow

__all__ = [
    "FOLDED",
    "MARK",
    "fold_timeline",
    "late_text",
    "local_times",
    "person",
    "promise_rows",
    "released_statements",
    "repeat_text",
    "unmarked",
    "utc",
]

# notices the ladder repeats every few minutes: one timeline line per state and roles
FOLDED = frozenset({"reminder"})
MARK = "EXERCISE EXERCISE EXERCISE"


def unmarked(text: str) -> str:
    """A delivered text without the EXERCISE lines the drill wrapped it in."""
    lines = text.split("\n")
    while lines and lines[0] == MARK:
        lines.pop(0)
    while lines and lines[-1] == MARK:
        lines.pop()
    return "\n".join(lines).strip()


def person(playbook: Playbook, actor: str, role: str = "") -> str:
    """`Baxtiyar Allamuratov (Head of press)`: a person's name and, when known, the role."""
    name = playbook.display_name(actor)
    return f"{name} ({playbook.role_title(role)})" if role else name


def released_statements(
    events: Sequence[EventRow], playbook: Playbook, deliveries: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Every release in order: statement, version, when, by whom, each approval of that
    version (name, role, when), the promised next update, and the text as sent."""
    approvals: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for event in events:
        if event.type == "statement.approved":
            key = (str(event.data.get("statement")), event.data.get("version"))
            role = str(event.data.get("role") or "")
            approvals.setdefault(key, []).append(
                {
                    "at": event.at,
                    "actor": event.actor,
                    "role": role,
                    "who": person(playbook, event.actor, role),
                }
            )
    found = []
    for event in events:
        if event.type != "statement.released":
            continue
        statement = str(event.data.get("statement"))
        title = playbook.statement_title(statement)
        sent = next(
            (
                d
                for d in deliveries
                if d.kind == "statement" and d.at == event.at and title in d.subject
            ),
            None,
        )
        promised = event.data.get("next_update_at")
        role = str(event.data.get("role") or "")
        found.append(
            {
                "statement": statement,
                "title": title,
                "version": event.data.get("version"),
                "at": event.at,
                "actor": event.actor,
                "by": person(playbook, event.actor, role),
                "approvals": approvals.get((statement, event.data.get("version")), []),
                "channels": list(event.data.get("channels") or []),
                "next_update_at": parse_utc(str(promised)) if promised else None,
                "text": unmarked(sent.text) if sent is not None else "",
            }
        )
    return found


def promise_rows(events: Sequence[EventRow], until: datetime) -> list[dict[str, Any]]:
    """Each promise of a next update that came due, with its outcome and the overdue
    notices it caused (the check repeats each cadence until an update goes out)."""
    notices = [e for e in events if e.type == "update.missed"]
    rows = []
    for promise in promises(events, until):
        caused = [
            e
            for e in notices
            if e.at >= promise.due_at
            and (promise.next_release_at is None or e.at <= promise.next_release_at)
        ]
        if promise.lapsed:
            outcome = "lapsed"
        elif not promise.broken:
            outcome = "kept"
        elif promise.next_release_at is None:
            outcome = "never"
        else:
            outcome = "late"
        rows.append(
            {
                "statement": promise.statement,
                "version": promise.version,
                "made_at": promise.made_at,
                "due_at": promise.due_at,
                "next_release_at": promise.next_release_at,
                "outcome": outcome,
                "notices": len(caused),
            }
        )
    return rows


def _fold_key(event: EventRow) -> tuple[str, str, tuple[str, ...]] | None:
    if event.type not in FOLDED:
        return None
    return (event.type, str(event.data.get("state")), tuple(event.data.get("notified") or []))


def fold_timeline(events: Sequence[EventRow]) -> list[tuple[EventRow, list[EventRow]]]:
    """The events in order, each repeated notice folded into its first line: (the event,
    the later repeats of it in the same state entry)."""
    rows: list[tuple[EventRow, list[EventRow]]] = []
    open_folds: dict[tuple[str, str, tuple[str, ...]], list[EventRow]] = {}
    for event in events:
        if event.type == "transition":
            open_folds.clear()  # a new state entry starts its own reminders
        key = _fold_key(event)
        if key is not None and key in open_folds:
            open_folds[key].append(event)
            continue
        repeats: list[EventRow] = []
        if key is not None:
            open_folds[key] = repeats
        rows.append((event, repeats))
    return rows


def repeat_text(repeats: Sequence[EventRow], offset: Any) -> str:
    """` (×3, last at T+8m15s)` after a folded line; empty without repeats."""
    if not repeats:
        return ""
    return " " + _("(×{count}, last at {offset})").format(
        count=len(repeats) + 1, offset=offset(repeats[-1].at)
    )


def local_times(moments: Sequence[datetime], zone: str) -> list[str]:
    """Local clock times for a column: the date only where the day changes."""
    shown, previous = [], None
    for moment in moments:
        shown.append(local_text(moment, zone, now=previous))
        previous = moment
    return shown


def late_text(due: datetime, done: datetime | None) -> str:
    """`late by 1h20m` or `never`."""
    if done is None:
        return _("never")
    return _("late by {late}").format(late=format_duration(done - due))


def utc(moment: datetime | None) -> str | None:
    """A time for JSON, or None."""
    return None if moment is None else format_utc(moment)
