"""Incident steps: open, advance, check, set, acknowledge, note.

Each step takes the pinned playbook, the incident as read and the time, and returns an
Outcome or raises RefusedError. Nothing here touches the store or the clock directly, so
the same code runs officers' commands, `serve` and drills (DESIGN.md, "Data flow").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from crisiscomm import i18n
from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.engine.context import (
    SYSTEM_ACTOR,
    cadence_interval,
    own_data,
    possible_triggers,
    refuse_if_closed,
    template_values,
)
from crisiscomm.engine.facts import fact_values
from crisiscomm.engine.outcome import Outcome
from crisiscomm.engine.timefmt import zoned_text
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow, NewEvent, NewTimer, OutboxMessage
from crisiscomm.templates import render_lenient

__all__ = [
    "SYSTEM_ACTOR",
    "acknowledge",
    "add_note",
    "advance",
    "check_item",
    "guard_failures",
    "open_incident",
    "possible_triggers",
    "set_facts",
    "state_timers",
]


def state_timers(
    playbook: Playbook,
    *,
    state: str,
    severity: str,
    entered_at: datetime,
    promise_stands: bool = False,
) -> list[NewTimer]:
    """The timers of a state entry: deadline, escalation steps and the first cadence.

    Once a release has promised the public its next update, that promise (a `promise`
    timer of the incident) is what is checked; the state's cadence then sets the rhythm of
    later checks and arms no check of its own, so one missed update is counted once.
    """
    definition = playbook.state(state)
    timers: list[NewTimer] = []
    if "deadline" in definition:
        due = entered_at + playbook.scaled(definition["deadline"], severity)
        timers.append(NewTimer("deadline", "deadline", due, {"state": state}))
    for index, step in enumerate(definition.get("escalation") or []):
        due = entered_at + playbook.scaled(step["after"], severity)
        timers.append(
            NewTimer("escalation", f"escalation:{index}", due, {"state": state, "step": index})
        )
    every = cadence_interval(playbook, state)
    if every is not None and not promise_stands:
        armed = format_utc(entered_at)
        timers.append(
            NewTimer(
                "cadence",
                "cadence:entry",
                entered_at + every,
                {"state": state, "armed_at": armed},
            )
        )
    return timers


def notifications(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    roles: list[str],
    channels: list[str] | None,
    message: Callable[[], str],
    subject: Callable[[], str],
    kind: str,
    only: list[str] | None = None,
    key: str | None = None,
    now: datetime,
) -> list[OutboxMessage]:
    """Outbox rows telling the members of `roles` (or `only` those people), one per
    channel, one per address for e-mail (per chat id for telegram), each in the language of
    the people it reaches.

    `message` and `subject` make the texts (templates with `$placeholders`) in the language
    in use when called: they are called once per language of the people told (a person's
    `language`, else the interface language), under `i18n.speaking`.
    Rows carry the channel's name, never its settings: secrets stay in the environment.
    With `key`, idempotency keys are derived from it (a retried firing adds no duplicates).
    A role the office rotates reaches the person on duty at `now` (else its deputies).
    """
    if channels is None:
        channels = [n for n, c in playbook.channels.items() if c.get("type") == "console"]
    people = [m for role in roles for m in playbook.told(role, now)]
    if only is not None:
        people = [m for m in people if m["name"] in only]
    by_language: dict[str, list[dict[str, Any]]] = {}
    for person in people:
        wanted = str(person.get("language") or "")
        code = wanted if wanted in i18n.LANGUAGE_NAMES else i18n.language()
        by_language.setdefault(code, []).append(person)
    if not by_language:
        by_language[i18n.language()] = []
    rows = []
    for code, group in by_language.items():
        with i18n.speaking(code):
            values = template_values(playbook, incident, now)
            text = render_lenient(message(), values)
            title = render_lenient(subject(), values)
        names = list(dict.fromkeys(str(m["name"]) for m in group))
        for channel in channels:
            payload = {
                "incident_id": incident.id,
                "kind": kind,
                "subject": title,
                "text": text,
                "roles": roles,
                "people": names,
                "language": code,
            }
            kind_of_channel = playbook.channels.get(channel, {}).get("type")
            if kind_of_channel in ("smtp", "telegram"):  # each person's address, or chat id
                contact = "email" if kind_of_channel == "smtp" else "telegram"
                recipients = sorted({str(m[contact]) for m in group if m.get(contact)})
                suffix = ""
            else:
                recipients = [",".join(roles)]
                suffix = f":{code}" if len(by_language) > 1 else ""
            for recipient in recipients:
                identity = f"{key}:{channel}:{recipient}{suffix}" if key else uuid.uuid4().hex
                rows.append(OutboxMessage(identity, channel, recipient, payload))
    return rows


def _enter_state(
    playbook: Playbook,
    incident: IncidentRow,
    data: dict[str, Any],
    *,
    state: str,
    now: datetime,
    actor: str,
) -> tuple[IncidentRow, list[NewTimer], list[OutboxMessage], list[NewEvent]]:
    """The incident in its new state, with the state's timers and on-enter actions."""
    generation = incident.generation + 1
    data["acks"] = {"generation": generation, "by": []}
    entered = replace(
        incident,
        state=state,
        generation=generation,
        state_entered_at=now,
        closed_at=now if playbook.is_final(state) else None,
        data=data,
    )
    timers = (
        []
        if playbook.is_final(state)
        else state_timers(
            playbook,
            state=state,
            severity=incident.severity,
            entered_at=now,
            promise_stands=bool(data.get("next_update_at")),
        )
    )
    outbox: list[OutboxMessage] = []
    events: list[NewEvent] = []
    definition = playbook.state(state)
    for action in definition.get("on_enter") or []:
        name = action if isinstance(action, str) else action["action"]
        params = action if isinstance(action, dict) else {}
        if name in ("notify", "notify_owner"):
            owner = [definition["owner"]] if definition.get("owner") else []
            roles = owner if name == "notify_owner" else params["notify"]
            given = params.get("message")

            def message(given: Any = given) -> str:
                return playbook.text(given) or _("$incident_id entered $state_title")

            outbox += notifications(
                playbook,
                entered,
                roles=list(roles),
                channels=params.get("channels"),
                message=message,
                subject=lambda: _("$incident_id: $state_title"),
                kind="on_enter",
                now=now,
            )
        elif name == "draft_statement":
            from crisiscomm.engine.statements import draft_texts

            try:
                texts, used = draft_texts(playbook, entered, params["statement"], now)
            except RefusedError as error:
                events.append(
                    NewEvent(
                        now, actor, "action.skipped", {"action": name, "reason": error.message}
                    )
                )
                continue
            from crisiscomm.engine.clearance import new_version_timers
            from crisiscomm.engine.statements import add_version

            # the template wrote the words, but the draft is the act of whoever entered the
            # state: they are its author, and four-eyes binds them (no text without an author)
            version = add_version(data, params["statement"], texts, used, actor=actor, now=now)
            events.append(
                NewEvent(
                    now,
                    SYSTEM_ACTOR,
                    "statement.drafted",
                    {
                        "statement": params["statement"],
                        "version": version["version"],
                        "hash": version["hash"],
                    },
                )
            )
            timers += new_version_timers(
                playbook, entered, statement=params["statement"], version=version, now=now
            )
    if playbook.is_final(state):
        events.append(NewEvent(now, actor, "closed", {"state": state}))
    return entered, timers, outbox, events


def open_incident(
    playbook: Playbook,
    *,
    incident_id: str,
    title: str,
    severity: str | None,
    facts: dict[str, str],
    actor: str,
    now: datetime,
) -> Outcome:
    """A new incident in the playbook's initial state; required facts must be given."""
    if not title.strip():
        raise UsageError(
            _("the incident needs a --title"), hint=_('e.g. --title "Dam breach near Nukus"')
        )
    chosen = severity or playbook.default_severity
    if chosen not in playbook.severities:
        raise UsageError(
            _("unknown severity `{s}`").format(s=chosen),
            hint=_("severities of {p}: {names}").format(
                p=playbook.id, names=", ".join(playbook.severities)
            ),
        )
    values = fact_values(playbook, facts, {}, now=now)
    missing = [
        name
        for name, definition in playbook.facts.items()
        if definition.get("required") and name not in values
    ]
    if missing:
        raise UsageError(
            _("missing required facts: {names}").format(names=", ".join(missing)),
            hint=" ".join(f"--fact {name}=..." for name in missing),
        )
    blank = IncidentRow(
        id=incident_id,
        playbook_id=playbook.id,
        playbook_hash=playbook.content_hash,
        title=title.strip(),
        severity=chosen,
        state=playbook.initial,
        generation=0,
        state_entered_at=now,
        opened_at=now,
        closed_at=None,
        opened_by=actor,
        data={},
    )
    data = own_data(blank)
    data["facts"] = values
    opened = NewEvent(
        now,
        actor,
        "opened",
        {
            "playbook": playbook.id,
            "playbook_hash": playbook.content_hash,
            "title": blank.title,
            "severity": chosen,
            "facts": values,
            "state": playbook.initial,
        },
    )
    entered, timers, outbox, events = _enter_state(
        playbook, blank, data, state=playbook.initial, now=now, actor=actor
    )
    return Outcome(entered, [opened, *events], timers, False, outbox)


def guard_failures(
    playbook: Playbook,
    incident: IncidentRow,
    transition: dict[str, Any],
    *,
    actor: str,
    note: str | None,
) -> list[str]:
    """Why a transition may not fire now, each reason with the command that would help."""
    reasons: list[str] = []
    guards = transition.get("guards") or {}
    state = incident.state
    iid = incident.id
    allowed = transition.get("roles") or []
    if not allowed and playbook.people:  # with an office, the state's owner moves it on
        from crisiscomm.engine.permissions import owner

        allowed = owner(playbook, incident)
    if allowed and not any(playbook.may_act_for(actor, role) for role in allowed):
        reasons.append(
            _("only members of {roles} may fire `{t}`; you are `{actor}` (use --as NAME)").format(
                roles=", ".join(allowed), t=transition["trigger"], actor=actor
            )
        )
    checklist = guards.get("checklist")
    if checklist is not None:
        done = incident.data.get("checklist", {}).get(state, {})
        items = playbook.state(state).get("checklist") or []
        wanted = (
            [i for i in items if i.get("required", True)]
            if checklist == "complete"
            else [i for i in items if i["id"] in checklist]
        )
        for item in wanted:
            if item["id"] not in done:
                reasons.append(
                    _(
                        "checklist item `{id}` is not done ({text}): crisiscomm check {iid} {id}"
                    ).format(id=item["id"], text=playbook.text(item.get("text")), iid=iid)
                )
    facts = incident.data.get("facts", {})
    for name in guards.get("facts") or []:
        if name not in facts:
            reasons.append(
                _("fact `{name}` has no value: crisiscomm set {iid} {name}=...").format(
                    name=name, iid=iid
                )
            )
    statements = incident.data.get("statements", {})
    for statement in guards.get("released") or []:
        if not (statements.get(statement) or {}).get("released"):
            reasons.append(
                _("statement `{s}` has not been released: crisiscomm release {iid} {s}").format(
                    s=statement, iid=iid
                )
            )
    from crisiscomm.engine.statements import pending_approvers

    for statement in guards.get("cleared") or []:
        waiting = pending_approvers(playbook, incident, statement)
        if waiting is None:
            reasons.append(
                _("statement `{s}` has no draft: crisiscomm statement draft {iid} {s}").format(
                    s=statement, iid=iid
                )
            )
        elif waiting:
            reasons.append(
                _("statement `{s}` still waits for approval by {roles}").format(
                    s=statement, roles=", ".join(waiting)
                )
            )
    given = {
        a["role"]
        for a in incident.data.get("approvals", {}).get(transition["trigger"], [])
        if a.get("generation") == incident.generation
    }
    for role in guards.get("approvals") or []:
        if role not in given:
            reasons.append(
                _(
                    "needs approval by {role}: crisiscomm approve {iid} {t} (as a {role} member)"
                ).format(role=role, iid=iid, t=transition["trigger"])
            )
    if transition.get("note_required") and not (note and note.strip()):
        reasons.append(_("`{t}` needs a --note saying why").format(t=transition["trigger"]))
    return reasons


def advance(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    trigger: str,
    note: str | None,
    actor: str,
    now: datetime,
) -> Outcome:
    """Fire a trigger; refuse with every reason it may not fire and the triggers possible."""
    refuse_if_closed(playbook, incident)
    possible = possible_triggers(playbook, incident.state)
    candidates = [t for t in playbook.transitions_from(incident.state) if t["trigger"] == trigger]
    if not candidates:
        raise RefusedError(
            _("`{t}` is not possible from state {s}").format(
                t=trigger, s=playbook.state_title(incident.state)
            ),
            hint=_("possible here: {names}").format(names=", ".join(possible) or "-"),
        )
    reasons: list[str] = []

    def guard(transition: dict[str, Any]) -> bool:
        failures = guard_failures(playbook, incident, transition, actor=actor, note=note)
        reasons.extend(failures)
        return not failures

    from crisiscomm.engine import machine  # transitions costs ~45 ms: only where needed

    target = machine.fire(playbook, state=incident.state, trigger=trigger, guard=guard)
    if target is None:
        raise RefusedError(
            _("`{t}` refused:").format(t=trigger) + "".join(f"\n  - {r}" for r in reasons),
            hint=_("possible here: {names}").format(names=", ".join(possible)),
        )
    data = own_data(incident)
    moved = NewEvent(
        now,
        actor,
        "transition",
        {"trigger": trigger, "from": incident.state, "to": target, "note": note},
    )
    entered, timers, outbox, events = _enter_state(
        playbook, incident, data, state=target, now=now, actor=actor
    )
    drafted = any(event.type == "statement.drafted" for event in events)
    return Outcome(entered, [moved, *events], timers, True, outbox, statements_changed=drafted)


def check_item(
    playbook: Playbook, incident: IncidentRow, *, item: str, actor: str, now: datetime
) -> Outcome:
    """Mark a checklist item of the current state done."""
    refuse_if_closed(playbook, incident)
    items = {i["id"]: i for i in playbook.state(incident.state).get("checklist") or []}
    if item not in items:
        raise RefusedError(
            _("state {s} has no checklist item `{item}`").format(
                s=playbook.state_title(incident.state), item=item
            ),
            hint=_("its items: {names}").format(names=", ".join(items) or "-"),
        )
    from crisiscomm.engine.permissions import owner, refuse_unless_holder

    role = items[item].get("role")
    refuse_unless_holder(
        playbook,
        actor,
        [*([role] if role else []), *owner(playbook, incident)],
        act=_("check `{item}`").format(item=item),
    )
    # the most frequent step copies only what it changes: the checklist, and its state's
    # ticks (the rest of the data is shared, read-only, with the incident as read)
    checklist = incident.data.get("checklist") or {}
    done = dict(checklist.get(incident.state) or {})
    if item in done:
        raise RefusedError(
            _("`{item}` was already checked by {actor} at {at}").format(
                item=item,
                actor=done[item]["by"],
                at=zoned_text(parse_utc(done[item]["at"]), playbook.timezone),
            )
        )
    done[item] = {"by": actor, "at": format_utc(now)}
    data = {**incident.data, "checklist": {**checklist, incident.state: done}}
    event = NewEvent(now, actor, "checked", {"state": incident.state, "item": item})
    return Outcome(replace(incident, data=data), [event])


def set_facts(
    playbook: Playbook, incident: IncidentRow, *, values: dict[str, str], actor: str, now: datetime
) -> Outcome:
    """Record facts (typed by the playbook)."""
    refuse_if_closed(playbook, incident)
    if not values:
        raise UsageError(_("give at least one key=value"))
    data = own_data(incident)
    events = []
    for name, value in fact_values(playbook, values, data["facts"], now=now).items():
        previous = data["facts"].get(name)
        data["facts"][name] = value
        events.append(
            NewEvent(now, actor, "fact.set", {"name": name, "value": value, "previous": previous})
        )
    return Outcome(replace(incident, data=data), events)


def acknowledge(playbook: Playbook, incident: IncidentRow, *, actor: str, now: datetime) -> Outcome:
    """`I have it`: stops reminders to this person for the current state; not the deadline."""
    from crisiscomm.engine.permissions import notified_roles, refuse_unless_holder

    refuse_if_closed(playbook, incident)
    refuse_unless_holder(
        playbook,
        actor,
        notified_roles(playbook, incident),
        act=_("acknowledge {id}: nothing in this state is sent to them").format(id=incident.id),
    )
    data = own_data(incident)
    acks = data["acks"]
    if acks.get("generation") != incident.generation:
        acks = data["acks"] = {"generation": incident.generation, "by": []}
    if actor in acks["by"]:
        raise RefusedError(
            _("{actor} has already acknowledged {id} in this state").format(
                actor=actor, id=incident.id
            )
        )
    acks["by"].append(actor)
    event = NewEvent(
        now, actor, "acknowledged", {"state": incident.state, "generation": incident.generation}
    )
    return Outcome(replace(incident, data=data), [event])


def add_note(incident: IncidentRow, *, text: str, actor: str, now: datetime) -> Outcome:
    """A free-text note on the record."""
    if not text.strip():
        raise UsageError(_("the note is empty"))
    return Outcome(replace(incident), [NewEvent(now, actor, "note", {"text": text.strip()})])
