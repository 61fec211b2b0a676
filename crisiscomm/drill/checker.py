"""The drill checker's common ground: offsets and targets, names looked up in a track's
playbook with a close match offered, and the tracks themselves (playbook found, exercise
overrides applied). scenario.py walks the sections of a scenario on top of it.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding
from crisiscomm.documents.source import Location, MarkedDict, location_of
from crisiscomm.drill.model import Scenario, Target, Track
from crisiscomm.durations import format_duration, parse_duration
from crisiscomm.errors import CrisisCommError
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook

__all__ = ["KPI_NAMES", "Checker", "parse_offset", "parse_target"]

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


class Checker:
    """Walks a schema-valid scenario document, collecting findings."""

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

    def use(self, track: Track) -> Playbook:
        """Check names against `track`'s playbook from now on."""
        self.playbook_name = track.playbook.id
        return track.playbook

    def tracks(self, duration: timedelta) -> list[Track] | None:
        """The tracks: the ones listed under `tracks`, or the one of `playbook`."""
        from crisiscomm.drill.tracks import exercised

        document = self.document
        if "tracks" in document and "playbook" in document:
            self.problem(
                _("a drill names its playbook once: under `playbook` or under `tracks`"),
                "tracks",
                hint=_("move `playbook` into the first track"),
            )
            return None
        listed = document.get("tracks")
        for key in ("severity", "overrides", "exercise_facts"):
            if listed is not None and key in document:
                self.problem(
                    _("`{key}` belongs to a track when the drill lists `tracks`").format(key=key),
                    key,
                    hint=_("move it under the track it is for"),
                )
        if listed is None and "playbook" not in document:
            self.problem(_("a drill needs `playbook` (one incident) or `tracks` (several)"))
            return None
        specs: list[tuple[tuple[str | int, ...], Any]] = (
            [(("tracks", n), item) for n, item in enumerate(listed)]
            if listed is not None
            else [((), document)]
        )
        tracks: list[Track] = []
        seen: set[str] = set()
        for steps, item in specs:
            found = self.find_playbook(str(item["playbook"]), (*steps, "playbook"))
            if found is None:
                continue
            path, playbook = found
            track_id = str(item.get("id") or playbook.id)
            if track_id in seen:
                self.problem(_("track id `{id}` is used twice").format(id=track_id), *steps, "id")
            seen.add(track_id)
            self.playbook_name = playbook.id
            severity = item.get("severity")
            if severity is not None:
                self.name(_("severity"), severity, playbook.severities, *steps, "severity")
            played, changes = exercised(
                playbook, item.get("overrides"), item.get("exercise_facts"), self.problem, steps
            )
            opens_at = timedelta(0)
            if "opens_at" in item:
                opens_at = self.offset(*steps, "opens_at", limit=duration)
            tracks.append(
                Track(
                    id=track_id,
                    playbook_path=path,
                    playbook=played,
                    title=str(item.get("title") or document["title"]),
                    severity=severity,
                    opens_at=opens_at,
                    overrides=changes,
                    location=self.where(*steps),
                )
            )
        return tracks if len(tracks) == len(specs) else None

    def find_playbook(
        self, reference: str, steps: tuple[str | int, ...]
    ) -> tuple[Path, Playbook] | None:
        from crisiscomm.documents.library import Library
        from crisiscomm.playbook.compile import compiled_playbook

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
                *steps,
                hint=error.hint,
            )
            return None

    def track_of(
        self, scenario: Scenario, item: Any, at: timedelta, what: str, *steps: str | int
    ) -> Track:
        """The track `item` names (the main one when it names none), checked: known, and
        open by `at`."""
        track = scenario.tracks[0]
        if "track" in item:
            names = [t.id for t in scenario.tracks]
            if item["track"] not in names:
                self.problem(
                    _("unknown track `{name}`").format(name=item["track"]),
                    *steps,
                    "track",
                    hint=_("tracks: {names}").format(names=", ".join(names)),
                )
            else:
                track = scenario.track(item["track"])
        if at < track.opens_at:
            self.problem(
                _("{what} comes at {at}, before its track `{track}` opens ({opens})").format(
                    what=what,
                    at=format_duration(at),
                    track=track.id,
                    opens=format_duration(track.opens_at),
                ),
                *steps,
                "at",
                hint=_("move it to {opens} or later, or open the track earlier").format(
                    opens=format_duration(track.opens_at)
                ),
            )
        self.use(track)
        return track

    def target(self, text: str, *steps: str | int) -> Target | None:
        try:
            return parse_target(text, self.where(*steps))
        except ValueError as error:
            self.problem(str(error), *steps)
            return None

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
