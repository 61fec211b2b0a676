"""What a checked drill scenario is made of: tracks (one incident each), injects,
scripted responses, objectives and targets. scenario.py builds these from a file.

A scenario plays one or more tracks on one simulated clock: each track is an incident of
its own playbook, opened at its own offset, with the timings the exercise overrides.
`Scenario.for_track(id)` is the scenario as seen from one track, which is what the
after-action report of that incident reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crisiscomm.documents.source import Location
    from crisiscomm.playbook.model import Playbook

__all__ = [
    "Inject",
    "Objective",
    "Response",
    "Scenario",
    "Target",
    "Track",
]


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
    """A master scenario event: what reaches the players, when, and what they should do.

    With `register`, the inject is an item of the questions-and-rumours register
    (kind, language, subject, reach) linked to its track's incident."""

    id: str
    at: timedelta
    source: str
    channel: str
    text: dict[str, str]
    facts: dict[str, str]
    expect_action: tuple[str, ...] | None
    expect_within: timedelta | None
    location: Location
    track: str = ""
    register: dict[str, Any] | None = None


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
    track: str = ""


@dataclass(frozen=True)
class Track:
    """One incident of the exercise: its playbook (with the exercise's overrides and added
    facts applied), when it opens, and what the exercise changed, for the report."""

    id: str
    playbook_path: Path
    playbook: Playbook
    title: str
    severity: str | None
    opens_at: timedelta
    overrides: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Scenario:
    """A loaded, checked drill scenario: its tracks, the first of which is the main one."""

    path: Path
    name: str  # as displayed (file)
    title: str
    start: datetime  # aware UTC
    timezone: str
    duration: timedelta
    seed: int
    tracks: list[Track]
    objectives: list[Objective] = field(default_factory=list)
    injects: list[Inject] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    kpi_targets: list[Target] = field(default_factory=list)
    states_by: list[tuple[str, timedelta, Location]] = field(default_factory=list)
    must_fire: list[dict[str, Any]] = field(default_factory=list)
    must_not_fire: list[dict[str, Any]] = field(default_factory=list)
    # the track of each located expectation and objective that is not the main track's
    track_of: dict[Location, str] = field(default_factory=dict)

    @property
    def playbook(self) -> Playbook:
        """The main track's playbook."""
        return self.tracks[0].playbook

    @property
    def playbook_path(self) -> Path:
        """The main track's playbook file."""
        return self.tracks[0].playbook_path

    @property
    def severity(self) -> str | None:
        """The main track's severity."""
        return self.tracks[0].severity

    def track(self, track_id: str) -> Track:
        """The track `track_id` ("" is the main one)."""
        return next((t for t in self.tracks if t.id == track_id), self.tracks[0])

    def in_track(self, track_id: str, owner: str | Location) -> bool:
        """Whether something (an inject's or response's track, or an expectation's
        location) belongs to track `track_id`."""
        main = self.tracks[0].id
        if not isinstance(owner, str):
            owner = self.track_of.get(owner, main)
        return (owner or main) == track_id

    def for_track(self, track_id: str) -> Scenario:
        """The scenario as one track sees it: its playbook first, its injects, responses,
        objectives and expectations."""
        track = self.track(track_id)
        mine = track.id
        return dataclasses.replace(
            self,
            tracks=[track, *(t for t in self.tracks if t.id != mine)],
            objectives=[o for o in self.objectives if self.in_track(mine, o.target.location)],
            injects=[i for i in self.injects if self.in_track(mine, i.track)],
            responses=[r for r in self.responses if self.in_track(mine, r.track)],
            kpi_targets=[t for t in self.kpi_targets if self.in_track(mine, t.location)],
            states_by=[s for s in self.states_by if self.in_track(mine, s[2])],
            must_fire=[r for r in self.must_fire if self.in_track(mine, r["location"])],
            must_not_fire=[r for r in self.must_not_fire if self.in_track(mine, r["location"])],
        )
