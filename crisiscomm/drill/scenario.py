"""Drill scenario files (`crisiscomm-drill: 1`): loading, JSON Schema, meaning checks.

A scenario names a playbook and lists timed injects (the master scenario events list),
scripted responses (for unattended runs) and expectations. Every problem is a finding at
the file:line the trainer wrote; `load_scenario` raises them as one ScenarioError.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.kinds import Kind
from crisiscomm.documents.rules import register
from crisiscomm.documents.source import Location, MarkedDict, location_of
from crisiscomm.drill.schema import scenario_schema_findings
from crisiscomm.durations import parse_duration
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
    "parse_offset",
    "parse_target",
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
}
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
}
KPI_NAMES = {
    "time_to_verification": "duration",
    "time_to_notify_leadership": "duration",
    "time_to_first_statement": "duration",
    "clearance_time": "duration",
    "ack_latency": "duration",
    "cadence_adherence": "ratio",
    "escalations_fired": "count",
    "updates_missed": "count",
}
_TARGET = re.compile(r"^\s*([a-z_.]+)\s*(<=|>=|<|>|==)\s*(\S+)\s*$")
_ZERO = re.compile(r"^(0+[dhms]?)+$|^PT?0+[DHMS]?$", re.IGNORECASE)


class ScenarioError(UsageError):
    """A scenario file that cannot be run as written (exit 2); `findings` say where."""

    def __init__(self, findings: list[Finding]) -> None:
        first = findings[0]
        lines = [f"{f.location}: {f.message}" for f in findings]
        super().__init__("\n  ".join(lines), hint=first.hint)
        self.findings = findings


@dataclass(frozen=True)
class Target:
    """`KPI OP VALUE`: seconds for durations, a share (0..1) for ratios, a count."""

    kpi: str
    op: str
    value: float
    text: str
    location: Location

    def holds(self, measured: float | None) -> bool:
        """Whether a measured value meets the target (an unmeasured one never does)."""
        if measured is None:
            return False
        return {
            "<=": measured <= self.value,
            "<": measured < self.value,
            ">=": measured >= self.value,
            ">": measured > self.value,
            "==": measured == self.value,
        }[self.op]


@dataclass(frozen=True)
class Objective:
    """An exercise objective, rated on the HSEEP scale by its KPI target."""

    id: str
    text: str
    target: Target


@dataclass(frozen=True)
class Inject:
    """A master scenario event: what reaches the players, when, and what they should do."""

    id: str
    at: timedelta
    source: str
    channel: str
    text: dict[str, str]
    facts: dict[str, str]
    expect_action: tuple[str, ...] | None
    expect_within: timedelta | None
    location: Location


@dataclass(frozen=True)
class Response:
    """A scripted player command for unattended runs."""

    at: timedelta
    actor: str
    command: tuple[str, ...]  # e.g. ("advance", "confirm"), "statement" already dropped
    note: str | None
    text: str | None
    facts: dict[str, str]
    location: Location


@dataclass(frozen=True)
class Scenario:
    """A loaded, checked drill scenario."""

    path: Path
    name: str  # as displayed (file)
    playbook_path: Path
    playbook: Playbook
    title: str
    start: datetime  # aware UTC
    timezone: str
    duration: timedelta
    severity: str | None
    seed: int
    objectives: list[Objective] = field(default_factory=list)
    injects: list[Inject] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    kpi_targets: list[Target] = field(default_factory=list)
    states_by: list[tuple[str, timedelta, Location]] = field(default_factory=list)
    must_fire: list[dict[str, Any]] = field(default_factory=list)
    must_not_fire: list[dict[str, Any]] = field(default_factory=list)


def parse_offset(text: str) -> timedelta:
    """An offset from the exercise start: `0m`, `15m`, `1d2h` (zero allowed)."""
    if _ZERO.match(text.strip()):
        return timedelta(0)
    return parse_duration(text)


def parse_target(text: str, location: Location) -> Target:
    """`time_to_first_statement <= 60m` and the like; ValueError when it is not one."""
    match = _TARGET.match(text)
    if not match:
        raise ValueError(_("`{text}` is not a target; write KPI OP VALUE").format(text=text))
    kpi, op, raw = match.groups()
    base = kpi.split(".")[0]
    if base not in KPI_NAMES or ("." in kpi and base != "clearance_time"):
        close = difflib.get_close_matches(base, list(KPI_NAMES), n=1)
        raise ValueError(
            _("unknown KPI `{kpi}`; known: {names}").format(
                kpi=kpi, names=", ".join(sorted(KPI_NAMES))
            )
            + (" " + _("(did you mean `{name}`?)").format(name=close[0]) if close else "")
        )
    kind = KPI_NAMES[base]
    if kind == "duration":
        value = parse_offset(raw).total_seconds()
    elif kind == "ratio":
        number = raw.rstrip("%")
        try:
            value = float(number) / (100 if raw.endswith("%") else 1)
        except ValueError:
            raise ValueError(_("`{raw}` is not a share; write e.g. 90%").format(raw=raw)) from None
    else:
        try:
            value = float(int(raw))
        except ValueError:
            raise ValueError(_("`{raw}` is not a whole number").format(raw=raw)) from None
    return Target(kpi, op, value, text.strip(), location)


class _Checker:
    """Walks a schema-valid scenario document, collecting findings and building the Scenario."""

    def __init__(self, path: Path, document: MarkedDict) -> None:
        self.path = path
        self.document = document
        self.findings: list[Finding] = []

    def where(self, *steps: str | int) -> Location:
        return location_of(self.document, list(steps)) or self.document.location

    def problem(self, message: str, *steps: str | int, hint: str | None = None) -> None:
        self.findings.append(Finding(self.where(*steps), "drill", message, hint=hint))

    def offset(self, *steps: str | int, limit: timedelta | None = None) -> timedelta:
        node: Any = self.document
        for step in steps:
            node = node[step]
        try:
            value = parse_offset(str(node))
        except ValueError as error:
            self.problem(str(error), *steps)
            return timedelta(0)
        if limit is not None and value > limit:
            self.problem(
                _("`{text}` is after the end of the exercise ({duration})").format(
                    text=node, duration=self.document["duration"]
                ),
                *steps,
                hint=_("make `duration` longer or the offset shorter"),
            )
        return value

    def name(self, kind: str, value: str, known: Any, *steps: str | int) -> bool:
        if value in known:
            return True
        close = difflib.get_close_matches(value, [str(k) for k in known], n=1)
        hint = (
            _("did you mean `{name}`?").format(name=close[0])
            if close
            else _("known: {names}").format(names=", ".join(sorted(str(k) for k in known)))
        )
        self.problem(
            _("unknown {kind} `{name}` in playbook {playbook}").format(
                kind=kind, name=value, playbook=self.playbook_name
            ),
            *steps,
            hint=hint,
        )
        return False

    playbook_name = ""

    def build(self) -> Scenario | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        document = self.document
        playbook_path, playbook = self.find_playbook()
        if playbook is None or playbook_path is None:
            return None
        self.playbook_name = playbook.id
        zone = str(document.get("timezone") or playbook.timezone)
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
        duration = self.offset("duration")
        severity = document.get("severity")
        if severity is not None:
            self.name(_("severity"), severity, playbook.severities, "severity")
        scenario = Scenario(
            path=self.path,
            name=document.location.file,
            playbook_path=playbook_path,
            playbook=playbook,
            title=str(document["title"]),
            start=start,
            timezone=zone,
            duration=duration,
            severity=severity,
            seed=int(document.get("seed", 0)),
        )
        self.objectives(scenario)
        self.injects(scenario)
        self.responses(scenario)
        self.expectations(scenario)
        return scenario

    def find_playbook(self) -> tuple[Path | None, Playbook | None]:
        from crisiscomm.documents.library import Library
        from crisiscomm.playbook.compile import compiled_playbook

        reference = str(self.document["playbook"])
        beside = self.path.parent / reference
        candidates = [beside] if ("/" in reference or reference.endswith((".yaml", ".yml"))) else []
        candidates += [self.path.resolve().parent.parent / "playbooks" / f"{reference}.yaml"]
        path = next((c for c in candidates if c.is_file()), None)
        try:
            path = path or Library().find_playbook(reference)
            return path, compiled_playbook(path)
        except CrisisCommError as error:
            self.problem(
                _("playbook `{name}`: {error}").format(name=reference, error=error.message),
                "playbook",
                hint=error.hint,
            )
            return None, None

    def target(self, text: str, *steps: str | int) -> Target | None:
        try:
            return parse_target(text, self.where(*steps))
        except ValueError as error:
            self.problem(str(error), *steps)
            return None

    def objectives(self, scenario: Scenario) -> None:
        for index, item in enumerate(self.document.get("objectives") or []):
            target = self.target(item["kpi"], "objectives", index, "kpi")
            if target is not None:
                scenario.objectives.append(Objective(item["id"], item["text"], target))

    def facts(self, values: dict[str, Any], *steps: str | int) -> dict[str, str]:
        """The facts as `name=value` text; a text per language (`area: {kaa: ..., ru: ...}`)
        as `area.kaa=...`, `area.ru=...`."""
        playbook = self.scenario_playbook
        result = {}
        for name, value in values.items():
            self.name(_("fact"), name, playbook.facts, *steps, name)
            if isinstance(value, dict):
                for language, text in value.items():
                    self.name(_("language"), language, playbook.languages, *steps, name, language)
                    result[f"{name}.{language}"] = str(text)
                continue
            result[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return result

    scenario_playbook: Playbook

    def injects(self, scenario: Scenario) -> None:
        self.scenario_playbook = scenario.playbook
        seen: set[str] = set()
        for index, item in enumerate(self.document.get("injects") or []):
            steps = ("injects", index)
            if item["id"] in seen:
                self.problem(
                    _("inject id `{id}` is used twice").format(id=item["id"]), *steps, "id"
                )
            seen.add(item["id"])
            text = item["text"] if isinstance(item["text"], dict) else {"": item["text"]}
            expect = item.get("expect")
            action = within = None
            if expect:
                action = tuple(str(expect["action"]).split())
                self.expected_action(scenario.playbook, action, *steps, "expect", "action")
                within = self.offset(*steps, "expect", "within")
            scenario.injects.append(
                Inject(
                    id=item["id"],
                    at=self.offset(*steps, "at", limit=scenario.duration),
                    source=item["source"],
                    channel=item["channel"],
                    text=dict(text),
                    facts=self.facts(item.get("facts") or {}, *steps, "facts"),
                    expect_action=action,
                    expect_within=within,
                    location=self.where(*steps),
                )
            )

        opening = {  # `area.ru` gives `area` too
            name.partition(".")[0]
            for i in scenario.injects
            if i.at == timedelta(0)
            for name in i.facts
        }
        missing = [
            name
            for name, definition in scenario.playbook.facts.items()
            if definition.get("required") and name not in opening
        ]
        if missing:
            self.problem(
                _(
                    "the incident cannot be opened: playbook {playbook} requires the facts {names}"
                ).format(playbook=scenario.playbook.id, names=", ".join(missing)),
                *(("injects",) if "injects" in self.document else ("playbook",)),
                hint=_("set them under `facts:` of an inject at 0m"),
            )

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
        if verb in ("ack", "note"):
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
            if COMMANDS[verb]:
                self.known_name(scenario.playbook, verb, words[1], *steps, "command")
            if verb == "edit":
                self.name(_("language"), words[2], scenario.playbook.languages, *steps, "command")
            if verb in ("set",) and not item.get("facts"):
                self.problem(_("`set` needs `facts:`"), *steps, "command")
            if verb in ("note", "edit") and not item.get("text"):
                self.problem(_("`{verb}` needs `text:`").format(verb=verb), *steps, "command")
            scenario.responses.append(
                Response(
                    at=self.offset(*steps, "at", limit=scenario.duration),
                    actor=item["as"],
                    command=words,
                    note=item.get("note"),
                    text=item.get("text"),
                    facts=self.facts(item.get("facts") or {}, *steps, "facts"),
                    location=self.where(*steps),
                )
            )

    def expectations(self, scenario: Scenario) -> None:
        expectations = self.document.get("expectations") or {}
        playbook = scenario.playbook
        for index, text in enumerate(expectations.get("kpis") or []):
            target = self.target(text, "expectations", "kpis", index)
            if target is not None:
                scenario.kpi_targets.append(target)
        for index, item in enumerate(expectations.get("states") or []):
            steps: tuple[str | int, ...] = ("expectations", "states", index)
            self.name(_("state"), item["state"], playbook.states, *steps, "state")
            by = self.offset(*steps, "by", limit=scenario.duration)
            scenario.states_by.append((item["state"], by, self.where(*steps)))
        escalations = expectations.get("escalations") or {}
        for key, into in (
            ("must_fire", scenario.must_fire),
            ("must_not_fire", scenario.must_not_fire),
        ):
            for index, item in enumerate(escalations.get(key) or []):
                steps = ("expectations", "escalations", key, index)
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
