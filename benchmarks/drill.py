"""Drills against the clock, measured in the same run:

- a 72-hour, 50-inject drill of one incident: simulated-to-wall time, and its per-event
  cost against the engine benchmark's per-event cost (targets >= 250,000x; < 2x);
- a 72-hour exercise of three linked incidents (the flood, a false rumour about it 20
  minutes later, an outbreak 2 hours later: the shipped drills' injects and responses on
  one clock) with 100 injects, two of which reach the register: simulated-to-wall time
  (target >= 250,000x).

Run: .venv/bin/python benchmarks/drill.py
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import engine as engine_benchmark

from crisiscomm.drill.runner import run_drill
from crisiscomm.drill.scenario import load_scenario
from crisiscomm.store import open_store

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "drills" / "flood-amu-darya.yaml"
INJECTS = 50
RUNS = 5


def fifty_injects() -> object:
    """The flood drill (72 h) with extra field reports until it has 50 injects."""
    scenario = load_scenario(SCENARIO)
    template = scenario.injects[0]
    extra = [
        dataclasses.replace(
            template,
            id=f"field-report-{n}",
            at=timedelta(hours=1) + (scenario.duration - timedelta(hours=2)) * n / INJECTS,
            facts={},
            expect_action=None,
            expect_within=None,
        )
        for n in range(INJECTS - len(scenario.injects))
    ]
    injects = sorted([*scenario.injects, *extra], key=lambda inject: inject.at)
    return dataclasses.replace(scenario, injects=injects)


def three_tracks() -> object:
    """The flood drill with the false-rumour drill from 20m and the outbreak drill from 2h,
    padded with field reports to 100 injects."""
    main = load_scenario(SCENARIO)
    tracks, injects, responses = [main.tracks[0]], list(main.injects), list(main.responses)
    for file, opens in (("false-rumour-fake-decree", 20), ("outbreak-xojeli-schools", 120)):
        other = load_scenario(REPO / "drills" / f"{file}.yaml")
        shift = timedelta(minutes=opens)
        name = other.tracks[0].id
        tracks.append(dataclasses.replace(other.tracks[0], opens_at=shift))
        injects += [
            dataclasses.replace(i, at=i.at + shift, track=name)
            for i in other.injects
            if i.at + shift <= main.duration
        ]
        responses += [
            dataclasses.replace(r, at=r.at + shift, track=name)
            for r in other.responses
            if r.at + shift <= main.duration
        ]
    template = main.injects[0]
    for n in range(100 - len(injects)):
        register = None
        if n < 2:  # a journalist's question and a viral post reach the register
            kind = ("media_query", "post")[n]
            register = {"kind": kind, "language": "ru", "subject": "?", "text": "?", "reach": 50}
        injects.append(
            dataclasses.replace(
                template,
                id=f"field-report-{n}",
                at=timedelta(hours=1) + (main.duration - timedelta(hours=2)) * n / 100,
                facts={},
                expect_action=None,
                expect_within=None,
                register=register,
            )
        )
    injects.sort(key=lambda inject: inject.at)
    return dataclasses.replace(main, tracks=tracks, injects=injects, responses=responses)


def main() -> int:
    exercise = three_tracks()
    with tempfile.TemporaryDirectory() as tmp:
        walls, events, refused = [], 0, 0
        for number in range(RUNS):
            run = run_drill(exercise, db=Path(tmp) / f"x-{number}.db")  # type: ignore[arg-type]
            walls.append(run.wall_seconds)
            events = sum(len(e) for e in run.track_events.values())
            refused = len(run.refusals)
    wall = sorted(walls)[len(walls) // 2]
    simulated = exercise.duration.total_seconds()  # type: ignore[attr-defined]
    print(f"72-hour exercise, 3 linked incidents, 100 injects, {events} events:", end=" ")
    print(f"{wall * 1000:.0f} ms (median of {RUNS}; {refused} refused responses)")
    print(f"  simulated/wall: {simulated / wall:,.0f}x (target >= 250,000x)")
    scenario = fifty_injects()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        walls, events = [], 0
        for number in range(RUNS):
            started = time.perf_counter()
            run = run_drill(scenario, db=folder / f"drill-{number}.db")  # type: ignore[arg-type]
            walls.append(time.perf_counter() - started)
            events = len(run.events)
        wall = sorted(walls)[len(walls) // 2]
        simulated = scenario.duration.total_seconds()  # type: ignore[attr-defined]
        with open_store(folder / "engine.db") as store:
            started = time.perf_counter()
            engine_events, _commits = engine_benchmark.drive(store, 20)
            engine_wall = time.perf_counter() - started
    per_event, engine_per_event = wall / events, engine_wall / engine_events
    print(f"72-hour drill, {INJECTS} injects, {events} events:", end=" ")
    print(f"{wall * 1000:.0f} ms (median of {RUNS})")
    print(f"  simulated/wall: {simulated / wall:,.0f}x (target >= 250,000x)")
    print(
        f"  per event: {per_event * 1e6:.0f} us vs engine benchmark {engine_per_event * 1e6:.0f} us"
    )
    print(f"  = {per_event / engine_per_event:.2f}x the engine's per-event cost (target < 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
