"""Drill scenario files (`crisiscomm-drill: 1`): loading, JSON Schema, meaning checks.

A scenario names a playbook and lists timed injects (the master scenario events list),
scripted responses (for unattended runs) and expectations. Every problem is a finding at
the file:line the trainer wrote; `load_scenario` raises them as one ScenarioError.
"""

from __future__ import annotations

import difflib
import shlex
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.kinds import Kind
from crisiscomm.documents.rules import register
from crisiscomm.documents.source import Location, MarkedDict
from crisiscomm.drill.checker import Checker
from crisiscomm.drill.model import Inject, Objective, Response, Scenario, Target, Track
from crisiscomm.drill.schema import scenario_schema_findings
from crisiscomm.durations import format_duration
from crisiscomm.errors import CrisisCommError, LoadError, UsageError
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.documents.library import Library
    from crisiscomm.playbook.model import Playbook

__all__ = [
    "COMMANDS",
    "HEADER",
    "Inject",
    "Objective",
    "Response",
    "Scenario",
    "ScenarioError",
    "Target",
    "is_scenario",
    "load_scenario",
    "scenario_findings",
]

HEADER = "crisiscomm-drill"
# the command words of a scripted response, with how many names follow them
COMMANDS = {
    "advance": 1,
    "check": 1,
    "set": 0,
    "draft": 1,
    "edit": 2,
    "approve": 1,
    "release": 1,
    "ack": 0,
    "note": 0,
    "inbox": 2,
}
ANSWER_STEPS = ("approve", "draft")  # of a register answer, besides the lifecycle's triggers
EXPECTED_ACTIONS = {
    "advance",
    "check",
    "set",
    "draft",
    "approve",
    "release",
    "ack",
    "reach",
    "note",
    "answer",
}


class ScenarioError(UsageError):
    """A scenario file that cannot be run as written (exit 2); `findings` say where."""

    def __init__(self, findings: list[Finding]) -> None:
        first = findings[0]
        lines = [f"{f.location}: {f.message}" for f in findings]
        super().__init__("\n  ".join(lines), hint=first.hint)
        self.findings = findings


class _Checker(Checker):
    """Walks a schema-valid scenario document, collecting findings and building the Scenario."""

    def build(self) -> Scenario | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        document = self.document
        duration = self.offset("duration")
        tracks = self.tracks(duration)
        if tracks is None:
            return None
        zone = str(document.get("timezone") or tracks[0].playbook.timezone)
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(_("unknown time zone `{zone}`").format(zone=zone), "timezone")
            tz = ZoneInfo("UTC")
        try:
            start = datetime.fromisoformat(str(document["start"]))
        except ValueError:
            self.problem(
                _("`{text}` is not a date and time; write e.g. 2026-04-03 03:00").format(
                    text=document["start"]
                ),
                "start",
            )
            start = datetime(2026, 1, 1)
        start = (start if start.tzinfo else start.replace(tzinfo=tz)).astimezone(ZoneInfo("UTC"))
        scenario = Scenario(
            path=self.path,
            name=document.location.file,
            title=str(document["title"]),
            start=start,
            timezone=zone,
            duration=duration,
            seed=int(document.get("seed", 0)),
            tracks=tracks,
        )
        self.objectives(scenario)
        self.injects(scenario)
        self.responses(scenario)
        self.expectations(scenario, document.get("expectations") or {}, ("expectations",))
        for index, item in enumerate(document.get("tracks") or []):
            if "expectations" in item and index:
                self.use(scenario.tracks[index])
                steps = ("tracks", index, "expectations")
                self.expectations(scenario, item["expectations"], steps, scenario.tracks[index])
        return scenario

    def objectives(self, scenario: Scenario) -> None:
        for index, item in enumerate(self.document.get("objectives") or []):
            steps = ("objectives", index)
            track = self.track_of(scenario, item, scenario.duration, item["id"], *steps)
            target = self.target(item["kpi"], *steps, "kpi")
            if target is not None:
                scenario.objectives.append(Objective(item["id"], item["text"], target))
                if track is not scenario.tracks[0]:
                    scenario.track_of[target.location] = track.id

    def injects(self, scenario: Scenario) -> None:
        seen: set[str] = set()
        for index, item in enumerate(self.document.get("injects") or []):
            steps = ("injects", index)
            if item["id"] in seen:
                self.problem(
                    _("inject id `{id}` is used twice").format(id=item["id"]), *steps, "id"
                )
            seen.add(item["id"])
            at = self.offset(*steps, "at", limit=scenario.duration)
            what = _("inject `{id}`").format(id=item["id"])
            track = self.track_of(scenario, item, at, what, *steps)
            self.scenario_playbook = track.playbook
            text = item["text"] if isinstance(item["text"], dict) else {"": item["text"]}
            register = self.register_inject(item, text, *steps)
            expect = item.get("expect")
            action = within = None
            if expect:
                action = tuple(str(expect["action"]).split())
                if action == ("answer",) and register is None:
                    self.problem(
                        _("only an inject that reaches the register can expect an answer"),
                        *steps,
                        "expect",
                        "action",
                        hint=_("add `register: {kind: media_query}` to the inject"),
                    )
                self.expected_action(track.playbook, action, *steps, "expect", "action")
                within = self.offset(*steps, "expect", "within")
            scenario.injects.append(
                Inject(
                    id=item["id"],
                    at=at,
                    source=item["source"],
                    channel=item["channel"],
                    text=dict(text),
                    facts=self.facts(item.get("facts") or {}, *steps, "facts"),
                    expect_action=action,
                    expect_within=within,
                    location=self.where(*steps),
                    track=track.id,
                    register=register,
                )
            )
        for number, track in enumerate(scenario.tracks):
            opening = {  # `area.ru` gives `area` too
                name.partition(".")[0]
                for i in scenario.injects
                if i.track == track.id and i.at == track.opens_at
                for name in i.facts
            }
            missing = [
                name
                for name, definition in track.playbook.facts.items()
                if definition.get("required") and name not in opening
            ]
            if missing:
                where = ("tracks", number) if "tracks" in self.document else ("playbook",)
                self.problem(
                    _(
                        "the incident cannot be opened: playbook {playbook} requires the facts"
                        " {names}"
                    ).format(playbook=track.playbook.id, names=", ".join(missing)),
                    *(("injects",) if "injects" in self.document and not number else where),
                    hint=_("set them under `facts:` of an inject at {at} of track {track}").format(
                        at=format_duration(track.opens_at), track=track.id
                    ),
                )

    def register_inject(
        self, item: Any, text: dict[str, str], *steps: str | int
    ) -> dict[str, Any] | None:
        """What a register inject files: kind, language, subject, text, reach."""
        if "register" not in item:
            return None
        spec = item["register"]
        languages = [code for code in text if code]
        language = str(spec.get("language") or (languages[0] if languages else "en"))
        if languages and language not in text:
            self.problem(
                _("the inject has no text in `{language}`, the asker's language").format(
                    language=language
                ),
                *steps,
                "register",
                "language",
                hint=_("texts: {names}").format(names=", ".join(languages)),
            )
        body = text.get(language) or next(iter(text.values()))
        return {
            "kind": spec["kind"],
            "language": language,
            "subject": str(spec.get("subject") or body.split(".")[0][:80]),
            "text": body,
            "reach": spec.get("reach"),
        }

    def expected_action(
        self, playbook: Playbook, action: tuple[str, ...], *steps: str | int
    ) -> None:
        if not action or action[0] not in EXPECTED_ACTIONS:
            self.problem(
                _("unknown expected action `{action}`").format(action=" ".join(action)),
                *steps,
                hint=_("one of: {names}").format(names=", ".join(sorted(EXPECTED_ACTIONS))),
            )
            return
        verb, names = action[0], action[1:]
        if verb in ("ack", "note", "answer"):
            return
        if len(names) != 1:
            self.problem(_("`{verb}` needs one name after it").format(verb=verb), *steps)
            return
        self.known_name(playbook, verb, names[0], *steps)

    def known_name(self, playbook: Playbook, verb: str, name: str, *steps: str | int) -> None:
        triggers = {t["trigger"] for t in playbook.transitions}
        items = {i["id"] for s in playbook.states.values() for i in s.get("checklist") or []}
        known: dict[str, tuple[str, Any]] = {
            "advance": (_("trigger"), triggers),
            "check": (_("checklist item"), items),
            "set": (_("fact"), playbook.facts),
            "draft": (_("statement"), playbook.statements),
            "edit": (_("statement"), playbook.statements),
            "release": (_("statement"), playbook.statements),
            "approve": (_("statement or trigger"), {*playbook.statements, *triggers}),
            "reach": (_("state"), playbook.states),
        }
        kind, names = known[verb]
        self.name(kind, name, names, *steps)

    def responses(self, scenario: Scenario) -> None:
        for index, item in enumerate(self.document.get("responses") or []):
            steps = ("responses", index)
            try:
                words = tuple(shlex.split(item["command"]))
            except ValueError as error:
                self.problem(str(error), *steps, "command")
                continue
            if words[:1] == ("statement",):
                words = words[1:]
            verb = words[0] if words else ""
            if verb not in COMMANDS:
                close = difflib.get_close_matches(verb, list(COMMANDS), n=1)
                self.problem(
                    _("unknown command `{command}`").format(command=item["command"]),
                    *steps,
                    "command",
                    hint=_("did you mean `{name}`?").format(name=close[0])
                    if close
                    else _("one of: {names}").format(names=", ".join(COMMANDS)),
                )
                continue
            if len(words) - 1 != COMMANDS[verb]:
                self.problem(
                    _("`{verb}` takes {n} name(s), not `{args}`").format(
                        verb=verb, n=COMMANDS[verb], args=" ".join(words[1:]) or "-"
                    ),
                    *steps,
                    "command",
                )
                continue
            at = self.offset(*steps, "at", limit=scenario.duration)
            if verb == "inbox":
                track = self.inbox_command(scenario, words, at, *steps)
            else:
                what = _("response `{command}`").format(command=item["command"])
                track = self.track_of(scenario, item, at, what, *steps)
                self.scenario_playbook = track.playbook
            if COMMANDS[verb] and verb != "inbox":
                self.known_name(track.playbook, verb, words[1], *steps, "command")
            if verb == "edit":
                self.name(_("language"), words[2], track.playbook.languages, *steps, "command")
            if verb in ("set",) and not item.get("facts"):
                self.problem(_("`set` needs `facts:`"), *steps, "command")
            if verb in ("note", "edit") and not item.get("text"):
                self.problem(_("`{verb}` needs `text:`").format(verb=verb), *steps, "command")
            scenario.responses.append(
                Response(
                    at=at,
                    actor=item["as"],
                    command=words,
                    note=item.get("note"),
                    text=item.get("text"),
                    facts=self.facts(item.get("facts") or {}, *steps, "facts"),
                    location=self.where(*steps),
                    track=track.id,
                )
            )

    def inbox_command(
        self, scenario: Scenario, words: tuple[str, ...], at: timedelta, *steps: str | int
    ) -> Track:
        """`inbox TRIGGER INJECT`: the inject reaches the register by `at`, and its kind's
        lifecycle has the trigger. The response plays in the inject's track."""
        trigger, inject_id = words[1], words[2]
        inject = next((i for i in scenario.injects if i.id == inject_id), None)
        registered = [i.id for i in scenario.injects if i.register]
        if inject is None or inject.register is None:
            self.problem(
                _("`{id}` is no inject that reaches the register").format(id=inject_id),
                *steps,
                "command",
                hint=_("register injects: {names}").format(names=", ".join(registered) or "-"),
            )
            return scenario.tracks[0]
        if at < inject.at:
            self.problem(
                _("the response comes before inject `{id}` reaches the register").format(
                    id=inject_id
                ),
                *steps,
                "at",
            )
        register = self.register()
        if register is not None:
            lifecycle = register.lifecycle(inject.register["kind"])
            if trigger not in lifecycle.triggers and trigger not in ANSWER_STEPS:
                self.problem(
                    _("a {kind} of the register has no step `{trigger}`").format(
                        kind=inject.register["kind"], trigger=trigger
                    ),
                    *steps,
                    "command",
                    hint=_("its steps: {names}").format(
                        names=", ".join(sorted([*lifecycle.triggers, *ANSWER_STEPS]))
                    ),
                )
        track = scenario.track(inject.track)
        self.scenario_playbook = self.use(track)
        return track

    def register(self) -> Any:
        """The office's register (inbox.yaml), which register injects land in."""
        from crisiscomm.inbox.register import compiled_register, find_register

        try:
            return compiled_register(find_register())
        except CrisisCommError as error:
            self.problem(error.message, "injects", hint=error.hint)
            return None

    def expectations(
        self,
        scenario: Scenario,
        expectations: Any,
        prefix: tuple[str | int, ...],
        track: Track | None = None,
    ) -> None:
        def owner(item: Any, steps: tuple[str | int, ...]) -> Playbook:
            chosen = track or self.track_of(scenario, item, timedelta.max, "-", *steps)
            if chosen is not scenario.tracks[0]:
                scenario.track_of[self.where(*steps)] = chosen.id
            return self.use(chosen)

        for index, text in enumerate(expectations.get("kpis") or []):
            owner({}, (*prefix, "kpis", index))
            target = self.target(text, *prefix, "kpis", index)
            if target is not None:
                scenario.kpi_targets.append(target)
        for index, item in enumerate(expectations.get("states") or []):
            steps: tuple[str | int, ...] = (*prefix, "states", index)
            playbook = owner(item, steps)
            self.name(_("state"), item["state"], playbook.states, *steps, "state")
            by = self.offset(*steps, "by", limit=scenario.duration)
            scenario.states_by.append((item["state"], by, self.where(*steps)))
        escalations = expectations.get("escalations") or {}
        for key, into in (
            ("must_fire", scenario.must_fire),
            ("must_not_fire", scenario.must_not_fire),
        ):
            for index, item in enumerate(escalations.get(key) or []):
                steps = (*prefix, "escalations", key, index)
                playbook = owner(item, steps)
                rule: dict[str, Any] = {"location": self.where(*steps)}
                if "state" in item:
                    self.name(_("state"), item["state"], playbook.states, *steps, "state")
                    rule["state"] = item["state"]
                if "role" in item:
                    self.name(_("role"), item["role"], playbook.roles, *steps, "role")
                    rule["role"] = item["role"]
                if "statement" in item:
                    self.name(
                        _("statement"), item["statement"], playbook.statements, *steps, "statement"
                    )
                    rule["statement"] = item["statement"]
                if "by" in item:
                    rule["by"] = self.offset(*steps, "by", limit=scenario.duration)
                into.append(rule)


def is_scenario(document: Any) -> bool:
    """Whether a loaded document is a drill scenario (its `crisiscomm-drill` header)."""
    return isinstance(document, dict) and HEADER in document


def _check(path: Path, document: Any) -> tuple[Scenario | None, list[Finding]]:
    if not isinstance(document, MarkedDict):
        location = getattr(document, "location", Location(str(path), 1, 1))
        return None, [Finding(location, "drill-schema", _("a drill must be a mapping"))]
    findings = scenario_schema_findings(document)
    if findings:
        return None, findings
    checker = _Checker(path, document)
    scenario = checker.build()
    return scenario, sorted(checker.findings)


def scenario_findings(path: Path, document: Any, library: Library | None = None) -> list[Finding]:
    """Every finding for a loaded scenario document (for `crisiscomm validate`)."""
    return _check(path, document)[1]


SCENARIO = Kind(name="drill scenario", key="crisiscomm-drill", check=scenario_findings)
register("drill-schema", "the file does not match the drill scenario format (JSON Schema)")
register("drill", "a drill scenario names what its playbook does not have, or an impossible time")


def load_scenario(path: Path) -> Scenario:
    """Load and check a scenario file; ScenarioError (exit 2) lists every problem."""
    from crisiscomm.documents.library import display_path
    from crisiscomm.documents.load import load_file

    if not path.is_file():
        raise UsageError(_("{path}: no such scenario file").format(path=path))
    try:
        document = load_file(path, display_name=display_path(path))
    except LoadError as error:
        raise ScenarioError(
            [Finding(error.location, error.rule, error.message, hint=error.hint)]
        ) from None
    if not is_scenario(document):
        location = getattr(document, "location", Location(display_path(path), 1, 1))
        raise ScenarioError(
            [
                Finding(
                    location,
                    "drill-schema",
                    _("not a drill scenario: it must start with `crisiscomm-drill: 1`"),
                )
            ]
        )
    scenario, findings = _check(path, document)
    if findings or scenario is None:
        raise ScenarioError(findings)
    return scenario
