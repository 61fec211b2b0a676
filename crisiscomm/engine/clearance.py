"""Clearance deadlines: chasing the approver a statement version waits for.

A statement may give steps of its clearance chain deadlines (`clearance_deadlines`),
counted from the moment a version starts waiting for that step (it is drafted or edited,
or the step before approves it) and scaled by severity like every deadline:

    remind    the step's members are reminded
    deputies  its members and deputies are told
    escalate  the roles in `escalate_to` are told

The timers belong to the incident, not to the state the version was drafted in: a version
waits for its approver whatever state the incident moves to. They fall silent when the
step approves, a newer version replaces the one waiting, the version is released, or the
incident closes (see `timers.fire_clearance`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crisiscomm.clock import format_utc
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow, NewTimer

__all__ = ["STAGES", "first_step", "new_version_timers", "step_timers"]

STAGES = ("remind", "deputies", "escalate")


def step_timers(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    statement: str,
    version: dict[str, Any],
    role: str | None,
    now: datetime,
) -> list[NewTimer]:
    """The deadlines of clearance step `role`, which `version` starts waiting for `now`."""
    if role is None:
        return []
    deadlines = (playbook.statements[statement].get("clearance_deadlines") or {}).get(role) or {}
    timers = []
    for stage in STAGES:
        if stage in deadlines:
            timers.append(
                NewTimer(
                    "clearance",
                    f"clearance:{statement}:v{version['version']}:{role}:{stage}",
                    now + playbook.scaled(deadlines[stage], incident.severity),
                    {
                        "state": incident.state,
                        "statement": statement,
                        "version": version["version"],
                        "hash": version["hash"],
                        "role": role,
                        "stage": stage,
                        "waiting_since": format_utc(now),
                    },
                )
            )
    return timers


def first_step(playbook: Playbook, statement: str) -> str | None:
    """The step a new version waits for first."""
    chain = playbook.statements[statement].get("clearance") or []
    return chain[0] if chain else None


def new_version_timers(
    playbook: Playbook,
    incident: IncidentRow,
    *,
    statement: str,
    version: dict[str, Any],
    now: datetime,
) -> list[NewTimer]:
    """The deadlines a new version of `statement` starts with: those of its first step."""
    return step_timers(
        playbook,
        incident,
        statement=statement,
        version=version,
        role=first_step(playbook, statement),
        now=now,
    )
