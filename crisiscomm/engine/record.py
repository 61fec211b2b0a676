"""What one incident put on the record, as an after-action report lists it: the statements
released (each version, who released and who approved it, the text sent), the promises of
a next update (kept, late or never), the escalations and deadlines missed, and the
timeline with repeats folded, each time as T+offset and local clock time.

Each function takes one incident's events (and the playbook that names its people and
roles), so a drill of several incidents calls them once per incident, and a real
incident's report (report/incident.py) reads its record with the same functions as a
drill's (drill/report.py). `record_json` gathers them as JSON-ready data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.durations import format_duration
from crisiscomm.engine import narrative
from crisiscomm.engine.kpis import escalations, promises
from crisiscomm.engine.timefmt import local_text, statement_time
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store.rows import EventRow

__all__ = [
    "FOLDED",
    "MARK",
    "UNMEASURED_IS_NOT_APPLICABLE",
    "event_text",
    "fold_timeline",
    "kpi_text",
    "late_text",
    "local_times",
    "offset_text",
    "person",
    "promise_rows",
    "record_json",
    "released_statements",
    "released_texts",
    "repeat_text",
    "step_text",
    "unmarked",
    "utc",
]

# notices the ladder repeats every few minutes: one timeline line per state and roles
FOLDED = frozenset({"reminder"})
MARK = "EXERCISE EXERCISE EXERCISE"
# a KPI with nothing to measure yet (no promised update has come due): not a failure
UNMEASURED_IS_NOT_APPLICABLE = frozenset({"cadence_adherence"})
# taking back or correcting a released text: the report says who, why and what it replaces
_WORDED = frozenset(
    {"statement.withdrawal_proposed", "statement.withdrawn", "statement.correction_marked"}
)
Moment = Callable[[datetime], str]  # a time as a column shows it (offset, local time)


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


def released_texts(data: Mapping[str, Any], languages: Sequence[str]) -> dict[str, str]:
    """The text of every version of the incident's statements (its row's `data`), by the
    version's hash, as a release sends it: each language in turn."""
    return {
        str(version.get("hash")): "\n\n".join(
            str(version["texts"][lang]) for lang in languages if version["texts"].get(lang)
        )
        for record in (data.get("statements") or {}).values()
        for version in record.get("versions") or []
        if isinstance(version.get("texts"), dict)
    }


def released_statements(
    events: Sequence[EventRow],
    playbook: Playbook,
    deliveries: Sequence[Any] = (),
    texts: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every release in order: statement, version, when, by whom, each approval of that
    version (name, role, when), the promised next update, and the text as sent (a drill's
    delivery, else the version's text from `texts`, by hash)."""
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
                "text": unmarked(sent.text)
                if sent is not None
                else (texts or {}).get(str(event.data.get("hash")), ""),
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


def offset_text(start: datetime, moment: datetime) -> str:
    """`T+1h20m`: a moment as an offset from the start (of the exercise, of the incident)."""
    return "T+" + format_duration(moment - start)


def kpi_text(kpi: str, value: float | None) -> str:
    """A KPI value as a person reads it."""
    base = kpi.split(".")[0]
    if value is None:
        return _("not applicable") if base in UNMEASURED_IS_NOT_APPLICABLE else _("never")
    if base in ("cadence_adherence",):
        return f"{value:.0%}"
    if base in ("escalations_fired", "updates_missed"):
        return str(int(value))
    return format_duration(timedelta(seconds=value))


def step_text(event: EventRow) -> str:
    """Which rung fired: a state's step number, or a stuck clearance step's stage."""
    data = event.data
    if event.type == "clearance.overdue":
        return _("{statement} waits for {role}: {stage}").format(
            statement=data.get("statement"), role=data.get("role"), stage=data.get("stage")
        )
    return str(data.get("step"))


def event_text(event: EventRow, playbook: Playbook | None = None) -> str:
    """What a timeline line says about an event, after its type."""
    data = event.data
    if playbook is not None and event.type in _WORDED:
        return narrative.event_text(playbook, event)
    if event.type == "clearance.overdue":
        return f"{step_text(event)} -> " + ", ".join(data.get("notified") or [])
    if event.type == "transition":
        return f"{data.get('trigger')}: {data.get('from')} -> {data.get('to')}"
    if event.type in ("escalation", "deadline.missed", "update.missed", "reminder"):
        people = ", ".join(data.get("people") or [])
        return (
            f"{data.get('state')}: "
            + ", ".join(data.get("notified") or [])
            + (f" ({people})" if people else "")
        )
    if event.type.startswith("statement.") and "version" in data:
        return f"{data.get('statement')} v{data.get('version')}"
    for key in ("statement", "item", "trigger", "text", "name"):
        if key in data:
            value = data[key]
            return f"{value}={data.get('value')}" if key == "name" else str(value)
    return ""


def record_json(
    events: Sequence[EventRow],
    playbook: Playbook,
    *,
    start: datetime,
    zone: str,
    deliveries: Sequence[Any] = (),
    texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The incident's record as JSON-ready data, each time with its offset from `start` and
    its local time in `zone`: timeline, escalations, deadlines and updates missed,
    promises, statements released."""

    def offset(moment: datetime) -> str:
        return offset_text(start, moment)

    def local(moment: datetime) -> str:
        return statement_time(moment, zone)

    return {
        "timeline": [
            {
                "at": format_utc(event.at),
                "offset": offset(event.at),
                "local": local(event.at),
                "actor": event.actor,
                "type": event.type,
                "text": event_text(event, playbook) + repeat_text(repeats, offset),
                "repeats": len(repeats) + 1,
            }
            for event, repeats in fold_timeline(events)
        ],
        "escalations": [
            {
                "at": format_utc(e.at),
                "offset": offset(e.at),
                "local": local(e.at),
                "state": e.data.get("state"),
                "step": step_text(e),
                "roles": e.data.get("notified") or [],
                "people": e.data.get("people") or [],
            }
            for e in escalations(events)
        ],
        "missed": [
            {
                "at": format_utc(e.at),
                "offset": offset(e.at),
                "local": local(e.at),
                "type": e.type,
                "state": e.data.get("state"),
                "due_offset": offset(parse_utc(str(e.data["due_at"])))
                if e.data.get("due_at")
                else None,
                "roles": e.data.get("notified") or [],
            }
            for e in events
            if e.type in ("deadline.missed", "update.missed")
        ],
        "promises": _promises(events, playbook, offset, local),
        "statements": _statements(events, playbook, deliveries, texts, offset, local),
    }


def _statements(
    events: Sequence[EventRow],
    playbook: Playbook,
    deliveries: Sequence[Any],
    texts: Mapping[str, str] | None,
    offset: Moment,
    local: Moment,
) -> list[dict[str, Any]]:
    return [
        {
            **release,
            "at": format_utc(release["at"]),
            "offset": offset(release["at"]),
            "local": local(release["at"]),
            "approvals": [
                {
                    **approval,
                    "at": format_utc(approval["at"]),
                    "offset": offset(approval["at"]),
                    "local": local(approval["at"]),
                }
                for approval in release["approvals"]
            ],
            "next_update_at": utc(release["next_update_at"]),
            "next_update_local": local(release["next_update_at"])
            if release["next_update_at"]
            else None,
        }
        for release in released_statements(events, playbook, deliveries, texts)
    ]


def _promises(
    events: Sequence[EventRow], playbook: Playbook, offset: Moment, local: Moment
) -> list[dict[str, Any]]:
    rows = []
    for promise in promise_rows(events, events[-1].at):
        following = promise["next_release_at"]
        rows.append(
            {
                **promise,
                "title": playbook.statement_title(promise["statement"]),
                "made_at": format_utc(promise["made_at"]),
                "made_offset": offset(promise["made_at"]),
                "due_at": format_utc(promise["due_at"]),
                "due_offset": offset(promise["due_at"]),
                "due_local": local(promise["due_at"]),
                "next_release_at": utc(following),
                "next_release_offset": offset(following) if following else None,
                "detail": late_text(promise["due_at"], following)
                if promise["outcome"] in ("late", "never")
                else "",
            }
        )
    return rows
