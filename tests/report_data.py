"""Incidents on a simulated clock for the report tests: the flood playbook driven to closed
through crisiscomm.engine.service, each command `gap` after the one before."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crisiscomm.clock import SimulatedClock
from crisiscomm.documents.library import Library
from crisiscomm.engine import service
from crisiscomm.engine.autopilot import Step, fact_samples, path_to, plan_transition
from crisiscomm.playbook.compile import compile_playbook
from crisiscomm.store import Store

from .conftest import REPO

FLOOD = REPO / "playbooks" / "flood.yaml"


def run_step(store: Store, clock: SimulatedClock, incident_id: str, step: Step) -> None:
    common: dict[str, Any] = {
        "store": store,
        "clock": clock,
        "incident_id": incident_id,
        "actor": step.actor,
    }
    if step.command == "check":
        service.check_item(**common, item=step.args[0])
    elif step.command == "draft":
        service.draft_statement(**common, statement=step.args[0])
    elif step.command == "approve":
        service.approve(**common, name=step.args[0])
    elif step.command == "release":
        service.release_statement(**common, statement=step.args[0])
    else:
        service.advance(**common, trigger=step.args[0], note=step.args[1])


def closed_flood(
    store: Store, at: datetime, gap: timedelta, *, title: str = "Flood", goal: str = "closed"
) -> str:
    """Open a flood incident at `at` and drive it to `goal`; its id."""
    playbook = compile_playbook(FLOOD, library=Library())
    clock = SimulatedClock(at)
    opener = str(playbook.members("duty_officer")[0]["id"])
    incident = service.open_incident(
        store=store,
        clock=clock,
        playbook_ref=str(FLOOD),
        title=title,
        severity=None,
        facts=[f"{k}={v}" for k, v in fact_samples(playbook).items()],
        actor=opener,
    )
    for transition in path_to(playbook, goal):
        _playbook, current = service.load(store=store, incident_id=incident.id)
        for step in plan_transition(playbook, current, transition):
            clock.advance(gap)
            run_step(store, clock, incident.id, step)
    return incident.id
