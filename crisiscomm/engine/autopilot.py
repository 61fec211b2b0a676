"""Plans the commands that take an incident along a playbook, as its people would.

For a transition, the plan ticks the source state's checklist, drafts, clears and releases
the statements its guards need (each approval by a member of the right role who did not
write the text), gathers trigger approvals, and fires it as a member of an allowed role.
Used to drive every shipped playbook in tests and benchmarks, and for drill skeletons.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from crisiscomm.engine.incident import SYSTEM_ACTOR
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow

__all__ = ["Step", "fact_samples", "path_to", "plan_transition"]

SAMPLES = {"integer": "12", "number": "3.5", "boolean": "yes", "datetime": "2026-04-03 06:00"}
ANYONE = "duty-officer"


@dataclass(frozen=True)
class Step:
    """One command: `crisiscomm COMMAND ID *ARGS --as ACTOR`."""

    command: str  # check | draft | approve | release | advance
    args: tuple[str, ...]
    actor: str


def fact_samples(playbook: Playbook) -> dict[str, str]:
    """A plausible value for every fact of the playbook, as `--fact` text."""
    values = {}
    for name, fact in playbook.facts.items():
        kind = fact.get("type", "string")
        if kind == "choice":
            values[name] = fact["choices"][0]
        elif kind == "place":  # the first place of its list
            values[name] = next(iter(playbook.gazetteer.get(fact["gazetteer"]) or {}), name)
        else:
            values[name] = SAMPLES.get(kind, f"sample {name}")
    return values


def path_to(playbook: Playbook, goal: str, start: str | None = None) -> list[dict[str, Any]]:
    """The shortest chain of transitions from `start` (default: initial) to `goal`."""
    first = start or playbook.initial
    queue: deque[tuple[str, list[dict[str, Any]]]] = deque([(first, [])])
    seen = {first}
    while queue:
        state, steps = queue.popleft()
        if state == goal:
            return steps
        for transition in playbook.transitions_from(state):
            if transition["to"] not in seen:
                seen.add(transition["to"])
                queue.append((transition["to"], [*steps, transition]))
    raise ValueError(f"state {goal} cannot be reached from {first}")


def _holder(playbook: Playbook, roles: list[str], avoid: set[str] | None = None) -> str:
    """Someone who may act for the first of `roles` that has people (ANYONE without)."""
    for role in roles:
        if role and playbook.members(role):
            return _person(playbook, role, avoid or set())
    return ANYONE


def _owner(playbook: Playbook, incident: IncidentRow) -> list[str]:
    owner = playbook.state(incident.state).get("owner")
    return [str(owner)] if owner else []


def _person(playbook: Playbook, role: str, avoid: set[str]) -> str:
    for member in playbook.members(role):
        name = str(member.get("login") or member["name"])
        if name not in avoid and member["name"] not in avoid:
            return name
    if not playbook.members(role):
        return f"{role}-member"
    raise ValueError(f"role {role} has no member left who may act here")


def _clearance(
    playbook: Playbook, incident: IncidentRow, statement: str, *, release: bool
) -> list[Step]:
    record = incident.data.get("statements", {}).get(statement) or {}
    if release and record.get("released"):
        return []
    definition = playbook.statements[statement]
    author_role = definition.get("author")
    author = _holder(playbook, [author_role] if author_role else _owner(playbook, incident))
    steps: list[Step] = []
    versions = record.get("versions") or []
    if not versions:
        steps.append(Step("draft", (statement,), author))
    writers = {author, SYSTEM_ACTOR} | {v["author"] for v in versions}
    current = versions[-1]["hash"] if versions else None
    approved = {a["role"] for a in record.get("approvals") or [] if a["hash"] == current}
    for role in definition.get("clearance") or []:
        if role not in approved:
            approver = _person(playbook, role, writers)
            steps.append(Step("approve", (statement,), approver))
            writers.add(approver)
    if release:
        releasers = list(definition.get("release_by") or [])
        releaser = _holder(playbook, releasers) if releasers else author
        steps.append(Step("release", (statement,), releaser))
    return steps


def plan_transition(
    playbook: Playbook, incident: IncidentRow, transition: dict[str, Any]
) -> list[Step]:
    """The commands that satisfy a transition's guards and then fire it."""
    guards = transition.get("guards") or {}
    steps: list[Step] = []
    if guards.get("checklist"):
        done = incident.data.get("checklist", {}).get(incident.state, {})
        for item in playbook.state(incident.state).get("checklist") or []:
            if item["id"] not in done:
                roles = [*([item["role"]] if item.get("role") else []), *_owner(playbook, incident)]
                steps.append(Step("check", (item["id"],), _holder(playbook, roles)))
    for statement in guards.get("cleared") or []:
        steps += _clearance(playbook, incident, statement, release=False)
    for statement in guards.get("released") or []:
        steps += _clearance(playbook, incident, statement, release=True)
    used: set[str] = set()
    for role in guards.get("approvals") or []:
        approver = _person(playbook, role, used)
        steps.append(Step("approve", (transition["trigger"],), approver))
        used.add(approver)
    roles = transition.get("roles") or _owner(playbook, incident)
    actor = _holder(playbook, list(roles))
    steps.append(Step("advance", (transition["trigger"], "drill step"), actor))
    return steps
