"""A 72-hour, 50-inject drill: simulated-to-wall time, and per-event cost against the
engine benchmark's per-event cost, measured in the same run.

Targets: simulated/wall >= 250,000x; a drill adds < 2x per-event overhead.
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


def main() -> int:
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
