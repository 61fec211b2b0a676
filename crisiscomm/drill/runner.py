"""Runs a scenario unattended: a simulated clock stepping from event to event through the
same service, store and timer code as real incidents, every delivery recorded, not sent.

    result = run_drill(scenario, db=Path("/tmp/drill.db"))

The clock jumps to the next inject, scripted response or due timer, whichever is first;
nothing sleeps, so a 72-hour exercise runs in a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import SimulatedClock
from crisiscomm.drill.channels import Delivery, Recorder
from crisiscomm.engine.context import EXERCISE_CONTROL
from crisiscomm.errors import RefusedError, UsageError
from crisiscomm.i18n import _
from crisiscomm.notify.outbox import deliver_due

if TYPE_CHECKING:
    from crisiscomm.documents.source import Location
    from crisiscomm.drill.model import Inject, Response, Scenario, Track
    from crisiscomm.inbox.register import Register
    from crisiscomm.store import Store
    from crisiscomm.store.rows import EventRow, IncidentRow

__all__ = [
    "CONTROLLER",
    "Answered",
    "DrillRun",
    "Exercise",
    "Refusal",
    "open_exercise",
    "opener",
    "perform",
    "refusal",
    "refuse_office_database",
    "run_drill",
]

CONTROLLER = EXERCISE_CONTROL  # who records an inject's facts and text on the record


@dataclass(frozen=True)
class Refusal:
    """A scripted response (or an inject's facts) the engine refused."""

    command: str
    location: Location
    at: datetime
    message: str
    track: str = ""


@dataclass(frozen=True)
class Answered:
    """How a register inject was handled: its item, the deadline the register's norm
    (or the inject's `expect`) set, and when and by whom it was settled, if it was."""

    inject_id: str
    item_id: str
    kind: str
    received_at: datetime
    due_at: datetime | None
    status: str
    settled_at: datetime | None
    settled_by: str | None
    rebutted_at: datetime | None = None  # a post: when the rebuttal released marked it

    @property
    def in_time(self) -> bool:
        """Settled, and by its deadline where it has one."""
        if self.settled_at is None:
            return False
        return self.due_at is None or self.settled_at <= self.due_at


@dataclass
class DrillRun:
    """What an unattended run produced, for the after-action report: the main track's
    incident (`incident_id`, `events`) and, by track id, every track's."""

    scenario: Scenario
    incident_id: str
    events: list[EventRow]
    deliveries: list[Delivery]
    refusals: list[Refusal] = field(default_factory=list)
    inject_times: dict[str, datetime] = field(default_factory=dict)
    wall_seconds: float = 0.0
    timers_fired: int = 0
    incidents: dict[str, str] = field(default_factory=dict)
    track_events: dict[str, list[EventRow]] = field(default_factory=dict)
    answered: list[Answered] = field(default_factory=list)

    def for_track(self, track_id: str) -> DrillRun:
        """The run as one track's after-action report reads it."""
        scenario = self.scenario.for_track(track_id)
        incident = self.incidents.get(track_id, "")
        injects = {i.id for i in scenario.injects}
        return dataclasses.replace(
            self,
            scenario=scenario,
            incident_id=incident,
            events=self.track_events.get(track_id, []),
            deliveries=[d for d in self.deliveries if d.incident in (incident, "")],
            refusals=[r for r in self.refusals if scenario.in_track(track_id, r.track)],
            inject_times={k: v for k, v in self.inject_times.items() if k in injects},
            answered=[a for a in self.answered if a.inject_id in injects],
        )


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


def opener(scenario: Scenario, track: Track | None = None) -> str:
    """Who opens a track's incident (the main one's by default): the first scripted
    responder of the track who holds the initial state's owner role (the team the
    scenario plays), else the role's first member."""
    track = track or scenario.tracks[0]
    playbook = track.playbook
    owner = playbook.state(playbook.initial).get("owner")
    members = playbook.members(owner) if owner else []
    for response in scenario.responses:
        mine = scenario.in_track(track.id, response.track)
        if mine and owner and playbook.may_act_for(response.actor, owner):
            return response.actor
    return str(members[0].get("login") or members[0]["name"]) if members else CONTROLLER


class Exercise:
    """The exercise's incidents (one per track) in their store: a simulated clock,
    injects, register items, timers, deliveries."""

    def __init__(self, scenario: Scenario, store: Store, channels: Recorder | None = None) -> None:
        self.scenario = scenario
        self.store = store
        self.clock = SimulatedClock(scenario.start)
        self.recorder = channels or Recorder()
        self.incidents: dict[str, str] = {}  # track id: incident id
        self.items: dict[str, str] = {}  # register inject id: item id
        self.fired = 0

    @property
    def incident_id(self) -> str:
        """The main track's incident ("" before it opens)."""
        return self.incidents.get(self.scenario.tracks[0].id, "")

    def incident_of(self, track: str) -> str:
        """The incident of track `track` ("" is the main one)."""
        return self.incidents[self.scenario.track(track).id]

    def deliver(self) -> None:
        while deliver_due(self.store, now=self.clock.now(), limit=500, channels=self.recorder).sent:
            pass

    def _next_due(self, moment: datetime) -> datetime | None:
        """The earliest pending timer due by `moment`, of an incident or of the register
        (the drill's database holds only the exercise's)."""
        from crisiscomm.clock import parse_utc

        soonest = self.store.pending_wakeups(moment, 1)
        due = [parse_utc(soonest[0][2])] if soonest else []
        if self.items:
            register = self.store.next_inbox_timer()
            due += [register] if register is not None else []
        return min(due, default=None)

    def timers_until(self, moment: datetime) -> None:
        from crisiscomm.engine.service import fire_due
        from crisiscomm.inbox.timers import fire_register_due

        while True:
            due = self._next_due(moment)
            if due is None or due > moment:
                return
            self.clock.set(max(due, self.clock.now()))
            fired = fire_due(store=self.store, clock=self.clock)
            if self.items:
                fired += fire_register_due(store=self.store, clock=self.clock)
            self.fired += fired
            self.deliver()
            if not fired and due <= self.clock.now():
                return  # a timer that keeps meeting conflicts: it stays due, do not spin

    def inject(self, inject: Inject) -> None:
        from crisiscomm.engine import service

        incident = self.incident_of(inject.track)
        text = " / ".join(f"[{lang}] {t}" if lang else t for lang, t in inject.text.items())
        service.add_note(
            store=self.store,
            clock=self.clock,
            incident_id=incident,
            text=_("INJECT {id} ({source}, {channel}): {text}").format(
                id=inject.id, source=inject.source, channel=inject.channel, text=text
            ),
            actor=CONTROLLER,
        )
        if inject.facts and inject.at > self.scenario.track(inject.track).opens_at:
            service.set_facts(
                store=self.store,
                clock=self.clock,
                incident_id=incident,
                assignments=[f"{k}={v}" for k, v in inject.facts.items()],
                actor=CONTROLLER,
            )
        if inject.register is not None:
            self.file(inject, incident)

    def file(self, inject: Inject, incident: str) -> None:
        """A register inject reaches the register as an item linked to its incident."""
        from crisiscomm.inbox import service as inbox

        spec = inject.register or {}
        entry = inbox.Entry(
            kind=spec["kind"],
            received_at=self.clock.now(),
            channel=inject.channel,
            source=inject.source,
            language=spec["language"],
            subject=_("EXERCISE: {title}").format(title=spec["subject"]),
            text=spec["text"],
            external_id=f"drill:{self.scenario.name}:{inject.id}",
            incidents=(incident,),
            reach=spec.get("reach"),
        )
        [(item, _new)] = inbox.add(
            store=self.store,
            register=_register(),
            clock=self.clock,
            actor=CONTROLLER,
            entries=[entry],
        )
        self.items[inject.id] = item.id

    def perform(self, response: Response) -> None:
        """Run one scripted command on its track's incident (or register item)."""
        if response.command[0] != "inbox":
            perform(self.store, self.clock, self.incident_of(response.track), response)
            return
        from crisiscomm.inbox import service as inbox

        trigger, inject_id = response.command[1], response.command[2]
        if trigger in ("draft", "approve"):
            self.answer_step(trigger, self.items[inject_id], response)
            return
        inbox.act(
            store=self.store,
            register=_register(),
            clock=self.clock,
            actor=response.actor,
            item_id=self.items[inject_id],
            trigger=trigger,
            answer=response.text,
            body=response.text,
            reason=response.text,
            assignee=response.actor if trigger == "assign" else None,
        )

    def answer_step(self, step: str, item_id: str, response: Response) -> None:
        """`inbox draft INJECT` (the officer's `text:`, else drafted from the linked
        incident's statement or a template) and `inbox approve INJECT`, as the office's
        register clears answers."""
        from crisiscomm.inbox.answers import draft
        from crisiscomm.inbox.clearance import approve
        from crisiscomm.inbox.timers import register_office

        office = register_office()
        if office is None:
            raise UsageError(
                _("there is no office.yaml: answers are drafted and approved by its people")
            )
        register = _register()
        if step == "draft":
            draft(
                store=self.store,
                register=register,
                office=office,
                clock=self.clock,
                actor=response.actor,
                item_id=item_id,
                text=response.text,
            )
        else:
            approve(
                store=self.store,
                register=register,
                office=office,
                clock=self.clock,
                actor=response.actor,
                item_id=item_id,
            )

    def answered(self) -> list[Answered]:
        """How each register inject was handled, from its item's record."""
        result = []
        register = _register() if self.items else None
        for inject_id, item_id in self.items.items():
            item = self.store.get_inbox_item(item_id)
            lifecycle = register.lifecycle(item.kind)  # type: ignore[union-attr]
            events = self.store.inbox_events(item_id)
            settled = next((e for e in events if lifecycle.norm_met(str(e.data.get("to")))), None)
            rebutted = next((e for e in events if e.type == "inbox.rebutted"), None)
            result.append(
                Answered(
                    inject_id=inject_id,
                    item_id=item_id,
                    kind=item.kind,
                    received_at=item.received_at,
                    due_at=item.due_at,
                    status=item.status,
                    settled_at=settled.at if settled else None,
                    settled_by=settled.actor if settled else None,
                    rebutted_at=rebutted.at if rebutted else None,
                )
            )
        return result


def _register() -> Register:
    from crisiscomm.inbox.register import compiled_register, find_register

    return compiled_register(find_register())


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


def open_exercise(run: Exercise, track: Track | None = None) -> IncidentRow:
    """Open a track's incident (the main one's by default) with the facts of its injects
    at its opening; deliver its outbox."""
    from crisiscomm.documents.findings import Finding
    from crisiscomm.drill.scenario import ScenarioError
    from crisiscomm.engine import service

    scenario = run.scenario
    track = track or scenario.tracks[0]
    opening = [
        i
        for i in scenario.injects
        if scenario.in_track(track.id, i.track) and i.at == track.opens_at
    ]
    facts = [f"{k}={v}" for i in opening for k, v in i.facts.items()]
    try:
        incident = service.open_incident(
            store=run.store,
            clock=run.clock,
            playbook_ref=str(track.playbook_path),
            playbook=track.playbook,
            title=_("EXERCISE: {title}").format(title=track.title),
            severity=track.severity,
            facts=facts,
            actor=opener(scenario, track),
        )
    except (RefusedError, UsageError) as error:
        where = opening[0].location if opening else track.location
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
    run.incidents[track.id] = incident.id
    if track is not scenario.tracks[0]:
        _link(run, track)
    run.deliver()
    return incident


def _link(run: Exercise, track: Track) -> None:
    """Two incidents of one exercise say so on their records."""
    from crisiscomm.engine import service

    main = run.scenario.tracks[0]
    mine, theirs = run.incidents[track.id], run.incidents[main.id]
    for incident, other, name in ((mine, theirs, main.id), (theirs, mine, track.id)):
        service.add_note(
            store=run.store,
            clock=run.clock,
            incident_id=incident,
            text=_("Linked incident of this exercise: {incident} (track {track})").format(
                incident=other, track=name
            ),
            actor=CONTROLLER,
        )


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
        # tracks open first, then injects, then responses at equal offsets: the players act
        # on what has just reached them
        timeline: list[tuple[timedelta, int, int, Any]] = [
            (t.opens_at, 0, n, t) for n, t in enumerate(scenario.tracks) if n
        ]
        timeline += [(i.at, 1, n, i) for n, i in enumerate(scenario.injects)]
        timeline += [(r.at, 2, n, r) for n, r in enumerate(scenario.responses)]
        for at, kind, _n, item in sorted(timeline, key=lambda entry: entry[:3]):
            moment = scenario.start + at
            run.timers_until(moment)
            run.clock.set(max(moment, run.clock.now()))
            if kind == 0:
                open_exercise(run, item)
            elif kind == 1:
                result.inject_times[item.id] = run.clock.now()
                try:
                    run.inject(item)
                except (RefusedError, UsageError) as error:
                    command = _("inject {id}").format(id=item.id)
                    found = refusal(command, item.location, run.clock, error)
                    result.refusals.append(dataclasses.replace(found, track=item.track))
            else:
                try:
                    run.perform(item)
                except (RefusedError, UsageError) as error:
                    found = refusal(" ".join(item.command), item.location, run.clock, error)
                    result.refusals.append(dataclasses.replace(found, track=item.track))
            run.deliver()
        end = scenario.start + scenario.duration
        run.timers_until(end)
        run.clock.set(max(end, run.clock.now()))
        result.incidents = dict(run.incidents)
        result.track_events = {t: store.events(i) for t, i in run.incidents.items()}
        result.events = result.track_events[scenario.tracks[0].id]
        result.answered = run.answered()
        result.timers_fired = run.fired
    result.wall_seconds = time.perf_counter() - started
    return result
