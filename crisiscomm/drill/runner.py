"""Runs a scenario unattended: a simulated clock stepping from event to event through the
same service, store and timer code as real incidents, every delivery recorded, not sent.

    result = run_drill(scenario, db=Path("/tmp/drill.db"))

The clock jumps to the next inject, scripted response or due timer, whichever is first;
nothing sleeps, so a 72-hour exercise runs in a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import SimulatedClock
from crisiscomm.engine.context import EXERCISE_CONTROL
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.notify.channels import Channel, ChannelFactory
from crisiscomm.notify.outbox import deliver_due

if TYPE_CHECKING:
    from crisiscomm.documents.source import Location
    from crisiscomm.drill.scenario import Inject, Response, Scenario
    from crisiscomm.store import Store
    from crisiscomm.store.rows import EventRow, IncidentRow, OutboxRow

__all__ = [
    "CONTROLLER",
    "Delivery",
    "DrillRun",
    "Exercise",
    "LiveChannels",
    "Recorder",
    "Refusal",
    "mark",
    "open_exercise",
    "opener",
    "perform",
    "refusal",
    "refuse_office_database",
    "run_drill",
]

MARK = "EXERCISE EXERCISE EXERCISE"
CONTROLLER = EXERCISE_CONTROL  # who records an inject's facts and text on the record


def mark(text: str) -> str:
    """A text as a drill emits it: begins and ends with EXERCISE EXERCISE EXERCISE."""
    return f"{MARK}\n{text}\n{MARK}"


@dataclass(frozen=True)
class Delivery:
    """A notification or statement the drill would have sent."""

    at: datetime
    channel: str
    recipient: str
    kind: str
    subject: str
    text: str
    roles: tuple[str, ...]


class _RecordingChannel:
    secrets: tuple[str, ...] = ()

    def __init__(self, name: str, sink: list[Delivery]) -> None:
        self.name = name
        self.sink = sink

    def sync(self) -> None:
        """Nothing to do: recorded in memory."""

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        payload = row.payload
        self.sink.append(
            Delivery(
                at=now,
                channel=self.name,
                recipient=row.recipient,
                kind=str(payload.get("kind") or ""),
                subject=mark(str(payload.get("subject") or "")),
                text=mark(str(payload.get("text") or "")),
                roles=tuple(payload.get("roles") or ()),
            )
        )


class Recorder(ChannelFactory):
    """A channel factory whose every channel records, marked, instead of sending."""

    def __init__(self) -> None:
        super().__init__(environ={})
        self.deliveries: list[Delivery] = []

    def __call__(self, name: str, definition: Mapping[str, Any]) -> Channel:
        """A recording stand-in for channel `name`."""
        return _RecordingChannel(name, self.deliveries)


class _MarkedChannel:
    """A real channel whose every message is sent marked, and recorded as well."""

    def __init__(self, inner: Channel, sink: list[Delivery]) -> None:
        self.inner = inner
        self.name = inner.name
        self.secrets = inner.secrets
        self.sink = sink

    def send(self, row: OutboxRow, *, now: datetime) -> None:
        payload = dict(row.payload)
        payload["subject"] = mark(str(payload.get("subject") or ""))
        payload["text"] = mark(str(payload.get("text") or ""))
        self.inner.send(dataclasses.replace(row, payload=payload), now=now)
        _RecordingChannel(self.name, self.sink).send(row, now=now)

    def sync(self) -> None:
        self.inner.sync()


class LiveChannels(Recorder):
    """`--live-channels`: the playbook's real channels, every message still marked EXERCISE."""

    def __init__(self, factory: ChannelFactory | None = None) -> None:
        super().__init__()
        self.factory = factory or ChannelFactory()

    def __call__(self, name: str, definition: Mapping[str, Any]) -> Channel:
        """The real channel `name`, wrapped to mark what it sends."""
        return _MarkedChannel(self.factory(name, definition), self.deliveries)


@dataclass(frozen=True)
class Refusal:
    """A scripted response (or an inject's facts) the engine refused."""

    command: str
    location: Location
    at: datetime
    message: str


@dataclass
class DrillRun:
    """What an unattended run produced, for the after-action report."""

    scenario: Scenario
    incident_id: str
    events: list[EventRow]
    deliveries: list[Delivery]
    refusals: list[Refusal] = field(default_factory=list)
    inject_times: dict[str, datetime] = field(default_factory=dict)
    wall_seconds: float = 0.0
    timers_fired: int = 0


def perform(store: Store, clock: SimulatedClock, incident_id: str, response: Response) -> None:
    """Run one scripted command through the service functions (as the CLI would)."""
    from crisiscomm.engine import service

    verb, names = response.command[0], response.command[1:]
    common = {"store": store, "clock": clock, "incident_id": incident_id, "actor": response.actor}
    if verb == "advance":
        service.advance(trigger=names[0], note=response.note, **common)  # type: ignore[arg-type]
    elif verb == "check":
        service.check_item(item=names[0], **common)  # type: ignore[arg-type]
    elif verb == "set":
        assignments = [f"{k}={v}" for k, v in response.facts.items()]
        service.set_facts(assignments=assignments, **common)  # type: ignore[arg-type]
    elif verb == "draft":
        service.draft_statement(statement=names[0], **common)  # type: ignore[arg-type]
    elif verb == "edit":
        _edit(store, clock, incident_id, response)
    elif verb == "approve":
        service.approve(name=names[0], **common)  # type: ignore[arg-type]
    elif verb == "release":
        service.release_statement(statement=names[0], **common)  # type: ignore[arg-type]
    elif verb == "ack":
        service.acknowledge(**common)  # type: ignore[arg-type]
    elif verb == "note":
        service.add_note(text=response.text or "", **common)  # type: ignore[arg-type]


def _edit(store: Store, clock: SimulatedClock, incident_id: str, response: Response) -> None:
    import tempfile

    from crisiscomm.engine import service

    with tempfile.TemporaryDirectory(prefix="crisiscomm-drill-") as folder:
        file = Path(folder) / "text.txt"
        file.write_text(response.text or "", encoding="utf-8")
        service.edit_statement(
            store=store,
            clock=clock,
            incident_id=incident_id,
            statement=response.command[1],
            language=response.command[2],
            file=file,
            actor=response.actor,
        )


def opener(scenario: Scenario) -> str:
    """Who opens the exercise's incident: the first scripted responder who holds the
    initial state's owner role (the team the scenario plays), else its first member."""
    playbook = scenario.playbook
    owner = playbook.state(playbook.initial).get("owner")
    members = playbook.members(owner) if owner else []
    for response in scenario.responses:
        if owner and playbook.may_act_for(response.actor, owner):
            return response.actor
    return str(members[0].get("login") or members[0]["name"]) if members else CONTROLLER


class Exercise:
    """One exercise incident in its store: a simulated clock, injects, timers, deliveries."""

    def __init__(self, scenario: Scenario, store: Store, channels: Recorder | None = None) -> None:
        self.scenario = scenario
        self.store = store
        self.clock = SimulatedClock(scenario.start)
        self.recorder = channels or Recorder()
        self.incident_id = ""
        self.fired = 0

    def deliver(self) -> None:
        while deliver_due(self.store, now=self.clock.now(), limit=500, channels=self.recorder).sent:
            pass

    def timers_until(self, moment: datetime) -> None:
        from crisiscomm.engine.service import fire_due

        while True:
            pending = self.store.timers(self.incident_id, pending_only=True)
            due = min((t.due_at for t in pending), default=None)
            if due is None or due > moment:
                return
            self.clock.set(max(due, self.clock.now()))
            fired = fire_due(store=self.store, clock=self.clock)
            self.fired += fired
            self.deliver()
            if not fired and due <= self.clock.now():
                return  # a timer that keeps meeting conflicts: it stays due, do not spin

    def inject(self, inject: Inject) -> None:
        from crisiscomm.engine import service

        text = " / ".join(f"[{lang}] {t}" if lang else t for lang, t in inject.text.items())
        service.add_note(
            store=self.store,
            clock=self.clock,
            incident_id=self.incident_id,
            text=_("INJECT {id} ({source}, {channel}): {text}").format(
                id=inject.id, source=inject.source, channel=inject.channel, text=text
            ),
            actor=CONTROLLER,
        )
        if inject.facts and inject.at > timedelta(0):
            service.set_facts(
                store=self.store,
                clock=self.clock,
                incident_id=self.incident_id,
                assignments=[f"{k}={v}" for k, v in inject.facts.items()],
                actor=CONTROLLER,
            )


def refusal(
    command: str, location: Location, clock: SimulatedClock, error: RefusedError | UsageError
) -> Refusal:
    """A refused command (or inject) as the report lists it."""
    message = error.message + (f" ({error.hint})" if error.hint else "")
    return Refusal(command, location, clock.now(), message)


def refuse_office_database(db: Path) -> None:
    """UsageError when `db` is the officers' default database: a drill has its own."""
    from crisiscomm.store import default_db_path

    if db.resolve() == default_db_path().resolve():
        raise UsageError(
            _("a drill never runs in the officers' database {path}").format(path=db),
            hint=_("leave out --db (a temporary database is used) or give another file"),
        )


def open_exercise(run: Exercise) -> IncidentRow:
    """Open the exercise's incident with the facts of the injects at 0m; deliver its outbox."""
    from crisiscomm.documents.findings import Finding
    from crisiscomm.documents.source import Location
    from crisiscomm.drill.scenario import ScenarioError
    from crisiscomm.engine import service

    scenario = run.scenario
    opening = [i for i in scenario.injects if i.at == timedelta(0)]
    facts = [f"{k}={v}" for i in opening for k, v in i.facts.items()]
    try:
        incident = service.open_incident(
            store=run.store,
            clock=run.clock,
            playbook_ref=str(scenario.playbook_path),
            title=_("EXERCISE: {title}").format(title=scenario.title),
            severity=scenario.severity,
            facts=facts,
            actor=opener(scenario),
        )
    except (RefusedError, UsageError) as error:
        where = opening[0].location if opening else Location(scenario.name, 1, 1)
        raise ScenarioError(
            [
                Finding(
                    where,
                    "drill",
                    _("the incident cannot be opened: {reason}").format(reason=error.message),
                    hint=error.hint,
                )
            ]
        ) from None
    run.incident_id = incident.id
    run.deliver()
    return incident


def run_drill(scenario: Scenario, *, db: Path, channels: Recorder | None = None) -> DrillRun:
    """Run a scenario unattended in its own database `db` and return what happened.

    `channels` is where deliveries go: a Recorder (the default) or LiveChannels."""
    from crisiscomm.store import open_store

    refuse_office_database(db)
    started = time.perf_counter()
    with open_store(db) as store:
        store.scratch()  # a drill database is scratch: fsync was 60% of its time
        run = Exercise(scenario, store, channels)
        incident = open_exercise(run)
        result = DrillRun(scenario, incident.id, [], run.recorder.deliveries)
        # injects first at equal offsets: the players act on what has just reached them
        timeline: list[tuple[timedelta, int, int, Inject | Response]] = [
            (i.at, 0, n, i) for n, i in enumerate(scenario.injects)
        ]
        timeline += [(r.at, 1, n, r) for n, r in enumerate(scenario.responses)]
        for at, kind, _n, item in sorted(timeline, key=lambda entry: entry[:3]):
            moment = scenario.start + at
            run.timers_until(moment)
            run.clock.set(max(moment, run.clock.now()))
            if kind == 0:
                result.inject_times[item.id] = run.clock.now()  # type: ignore[union-attr]
                try:
                    run.inject(item)  # type: ignore[arg-type]
                except (RefusedError, UsageError) as error:
                    command = _("inject {id}").format(id=item.id)  # type: ignore[union-attr]
                    result.refusals.append(refusal(command, item.location, run.clock, error))
            else:
                try:
                    perform(store, run.clock, incident.id, item)  # type: ignore[arg-type]
                except (RefusedError, UsageError) as error:
                    command = " ".join(item.command)  # type: ignore[union-attr]
                    result.refusals.append(refusal(command, item.location, run.clock, error))
            run.deliver()
        end = scenario.start + scenario.duration
        run.timers_until(end)
        run.clock.set(max(end, run.clock.now()))
        result.events = store.events(incident.id)
        result.timers_fired = run.fired
    result.wall_seconds = time.perf_counter() - started
    return result
