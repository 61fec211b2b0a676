"""What a timer does when it comes due: deadline missed, escalation step, reminder, cadence.

`fire_timer` is pure like the other engine steps: the service claims the timer in the same
transaction that commits its outcome, so a timer fires exactly once however many `serve`
processes woke up for it (DESIGN.md invariant 4).

Acknowledgements: a person who acknowledged ("I have it") in the current state gets no
more reminders or escalation messages in it; other people still do, and the deadline
still stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.durations import parse_duration
from crisiscomm.engine.context import cadence_interval
from crisiscomm.engine.incident import SYSTEM_ACTOR, notifications
from crisiscomm.engine.outcome import Outcome
from crisiscomm.engine.statements import released_at
from crisiscomm.engine.timefmt import statement_time
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import (
    INCIDENT_TIMER_KINDS,
    IncidentRow,
    NewEvent,
    NewTimer,
    OutboxMessage,
    TimerRow,
)

__all__ = [
    "LATE_AFTER_SECONDS",
    "STATEMENT_TIMER_KINDS",
    "fire_clearance",
    "fire_timer",
    "is_stale",
    "late_by",
    "needs_statements",
]

# timers whose firing reads the incident's statements (releases, versions, approvals)
STATEMENT_TIMER_KINDS = frozenset({"cadence", "promise", "clearance"})

# a firing this long after its due time is marked late (a wake-up takes milliseconds;
# late means the process was down or far behind)
LATE_AFTER_SECONDS = 5.0


def late_by(timer: TimerRow, now: datetime) -> float:
    """How many seconds after its due time a timer fires (0 when on time)."""
    return max(0.0, (now - timer.due_at).total_seconds())


def is_stale(incident: IncidentRow, timer: TimerRow) -> bool:
    """A timer of a closed incident, or a state's timer of an earlier state entry: it must do
    nothing. The incident's own timers (promises, clearance deadlines) outlive states."""
    if incident.closed_at is not None:
        return True
    return timer.kind not in INCIDENT_TIMER_KINDS and timer.generation != incident.generation


def _acknowledged(incident: IncidentRow) -> list[str]:
    acks = incident.data.get("acks") or {}
    return list(acks.get("by") or []) if acks.get("generation") == incident.generation else []


def _unacknowledged(playbook: Playbook, incident: IncidentRow, roles: list[str]) -> list[str]:
    """Members (and deputies) of `roles` who have not acknowledged in this state entry."""
    acked = _acknowledged(incident)
    people: list[str] = []
    for role in roles:
        for member in playbook.members(role):
            name = str(member["name"])
            if name not in people and not any(playbook.same_person(name, a) for a in acked):
                people.append(name)
    return people


def _notify(
    playbook: Playbook,
    incident: IncidentRow,
    timer: TimerRow,
    *,
    roles: list[str],
    channels: list[str] | None,
    message: Callable[[], str],
    subject: Callable[[], str],
    kind: str,
    now: datetime,
    only: list[str] | None = None,
) -> list[OutboxMessage]:
    return notifications(
        playbook,
        incident,
        roles=roles,
        channels=channels,
        message=message,
        subject=subject,
        kind=kind,
        only=only,
        key=f"{incident.id}:timer:{timer.id}",
        now=now,
    )


def fire_timer(
    playbook: Playbook, incident: IncidentRow, timer: TimerRow, *, now: datetime
) -> Outcome | None:
    """The outcome of a due timer, or None when it has nothing left to do (claim it only)."""
    if is_stale(incident, timer):
        return None
    state = playbook.state(incident.state)
    late = late_by(timer, now)
    base: dict[str, Any] = {"state": incident.state, "due_at": format_utc(timer.due_at)}
    if late >= LATE_AFTER_SECONDS:
        base["late_by_seconds"] = round(late, 3)
    owner = [state["owner"]] if state.get("owner") else []
    if timer.kind == "deadline":
        on_deadline = state.get("on_deadline") or {}
        roles = list(on_deadline.get("notify") or owner)
        outbox = _notify(
            playbook,
            incident,
            timer,
            roles=roles,
            channels=on_deadline.get("channels"),
            message=lambda: (
                playbook.text(on_deadline.get("message"))
                or _("$incident_id: the deadline of $state_title has passed ($deadline)")
            ),
            subject=lambda: _("OVERDUE $incident_id: $state_title"),
            kind="deadline",
            now=now,
        )
        event = NewEvent(now, SYSTEM_ACTOR, "deadline.missed", {**base, "notified": roles})
        return Outcome(incident, [event], [], False, outbox)
    if timer.kind in ("escalation", "reminder"):
        return _escalate(playbook, incident, timer, state, base, now)
    if timer.kind in ("cadence", "promise"):
        return _update_overdue(playbook, incident, timer, base, now)
    if timer.kind == "clearance":
        return fire_clearance(playbook, incident, timer, base, now)
    raise ValueError(f"unknown timer kind {timer.kind!r}")  # pragma: no cover - rows we wrote


def needs_statements(playbook: Playbook, incident: IncidentRow, timer: TimerRow) -> bool:
    """Whether firing `timer` looks at the incident's statements (read only then: they are
    most of an incident's data): a cadence check, or a step that stops once released."""
    if timer.kind in STATEMENT_TIMER_KINDS:
        return True
    if timer.kind not in ("escalation", "reminder") or is_stale(incident, timer):
        return False
    steps = playbook.states.get(incident.state, {}).get("escalation") or []
    index = int(timer.data["step"])
    return index < len(steps) and bool(steps[index].get("until_released"))


def _escalate(
    playbook: Playbook,
    incident: IncidentRow,
    timer: TimerRow,
    state: Any,
    base: dict[str, Any],
    now: datetime,
) -> Outcome | None:
    index = int(timer.data["step"])
    step = (state.get("escalation") or [])[index]
    chased = step.get("until_released") or []
    if chased and all(released_at(incident, statement) for statement in chased):
        return None  # what the step chases is out: nobody needs chasing (nor reminding)
    roles = list(step["notify"])
    people = _unacknowledged(playbook, incident, roles)
    everyone_has_it = bool([m for r in roles for m in playbook.members(r)]) and not people
    if timer.kind == "reminder" and everyone_has_it:
        return None  # reminders repeat until acknowledged
    outbox = (
        []
        if everyone_has_it
        else _notify(
            playbook,
            incident,
            timer,
            roles=roles,
            channels=step.get("channels"),
            message=lambda: (
                playbook.text(step.get("message")) or _("$incident_id: $state_title needs you")
            ),
            subject=lambda: _("crisiscomm: $incident_id $state_title"),
            kind="escalation",
            now=now,
            only=people or None,
        )
    )
    timers: list[NewTimer] = []
    if step.get("repeat") and not everyone_has_it:
        round_ = int(timer.data.get("round", 0)) + 1
        due = now + parse_duration(step["repeat"])
        timers.append(
            NewTimer(
                "reminder",
                f"reminder:{index}:{round_}",
                due,
                {"state": incident.state, "step": index, "round": round_},
            )
        )
    kind = "escalation" if timer.kind == "escalation" else "reminder"
    data = {**base, "step": index + 1, "notified": roles, "people": people}
    if timer.kind == "reminder":
        data["round"] = timer.data.get("round")
    return Outcome(incident, [NewEvent(now, SYSTEM_ACTOR, kind, data)], timers, False, outbox)


def _update_overdue(
    playbook: Playbook, incident: IncidentRow, timer: TimerRow, base: dict[str, Any], now: datetime
) -> Outcome | None:
    """A promised public update (`promise`) or a state's update rhythm (`cadence`) is due:
    nothing if an update went out since it was armed, else escalate as missed and check
    again one cadence on. A promise made in an earlier state is kept all the same: the
    current state's cadence settings apply, else those of the state that made it."""
    armed = parse_utc(str(timer.data["armed_at"]))
    released = [
        parse_utc(release["at"])
        for record in (incident.data.get("statements") or {}).values()
        for release in record.get("released") or []
    ]
    if any(moment > armed for moment in released):
        return None  # an update went out since this check was armed: the promise was kept
    made_in = str(timer.data.get("state") or incident.state)
    states = [playbook.states.get(name) or {} for name in dict.fromkeys([incident.state, made_in])]
    settings: dict[str, Any] = next(
        (s["cadence"] for s in states if isinstance(s.get("cadence"), dict)), {}
    )
    owner = next(([s["owner"]] for s in states if s.get("owner")), [])
    roles = list(settings.get("notify") or owner)
    outbox = _notify(
        playbook,
        incident,
        timer,
        roles=roles,
        channels=settings.get("channels"),
        message=lambda: _("$incident_id: the promised public update is overdue (due {due})").format(
            due=statement_time(timer.due_at, playbook.timezone)
        ),
        subject=lambda: _("UPDATE OVERDUE $incident_id"),
        kind="cadence",
        now=now,
    )
    # keep checking at the same rhythm until an update goes out
    every = (
        cadence_interval(playbook, incident.state)
        or cadence_interval(playbook, made_in)
        or timedelta(hours=1)
    )
    next_check = NewTimer(
        timer.kind,
        f"{timer.kind}:miss:{timer.id}",
        now + every,
        {**timer.data, "armed_at": format_utc(armed)},
    )
    data = {**base, "notified": roles}
    if timer.kind == "promise":
        data["promised_in"] = made_in
    event = NewEvent(now, SYSTEM_ACTOR, "update.missed", data)
    return Outcome(replace(incident), [event], [next_check], False, outbox)


def _clearance_message(stage: str) -> str:
    """The default text of a clearance deadline's notification (translated when sent)."""
    if stage == "remind":
        return _(
            "$incident_id: version {version} of “{title}” has waited for your approval "
            "({role}) since {since}."
        )
    if stage == "deputies":
        return _(
            "$incident_id: version {version} of “{title}” still waits for approval by {role} "
            "(since {since}). Deputies: clear it or reach the approver."
        )
    return _(
        "$incident_id: the clearance of “{title}” is stuck: version {version} has waited for "
        "approval by {role} since {since}."
    )


def fire_clearance(
    playbook: Playbook, incident: IncidentRow, timer: TimerRow, base: dict[str, Any], now: datetime
) -> Outcome | None:
    """A statement version still waits for a clearance step: remind, tell the deputies or
    escalate; nothing once the step approved, a newer version replaced it or it is out."""
    statement, role, stage = (str(timer.data[k]) for k in ("statement", "role", "stage"))
    digest = timer.data["hash"]
    record = (incident.data.get("statements") or {}).get(statement) or {}
    versions = record.get("versions") or []
    if not versions or versions[-1]["hash"] != digest:
        return None  # a newer version waits now, with deadlines of its own
    if any(a["hash"] == digest and a["role"] == role for a in record.get("approvals") or []):
        return None
    if any(r["hash"] == digest for r in record.get("released") or []):
        return None
    definition = playbook.statements.get(statement) or {}
    deadlines = (definition.get("clearance_deadlines") or {}).get(role) or {}
    members = [str(m["name"]) for m in (playbook.roles.get(role) or {}).get("members") or []]
    roles = [role] if stage != "escalate" else list(deadlines.get("escalate_to") or [role])
    waiting_since = parse_utc(str(timer.data["waiting_since"]))

    def message() -> str:
        return _clearance_message(stage).format(
            version=timer.data["version"],
            title=playbook.statement_title(statement),
            role=playbook.role_title(role),
            since=statement_time(waiting_since, playbook.timezone),
        )

    def subject() -> str:
        return _("CLEARANCE $incident_id: {title} waits for {role}").format(
            title=playbook.statement_title(statement), role=playbook.role_title(role)
        )

    outbox = _notify(
        playbook,
        incident,
        timer,
        roles=roles,
        channels=deadlines.get("channels"),
        message=message,
        subject=subject,
        kind="clearance",
        now=now,
        only=members if stage == "remind" and members else None,
    )
    people = list(dict.fromkeys(str(m["name"]) for r in roles for m in playbook.members(r)))
    data = {
        **base,
        "statement": statement,
        "version": timer.data["version"],
        "role": role,
        "stage": stage,
        "notified": roles,
        "people": [p for p in people if p in members] if stage == "remind" and members else people,
    }
    event = NewEvent(now, SYSTEM_ACTOR, "clearance.overdue", data)
    return Outcome(replace(incident), [event], [], False, outbox)
