"""A track's playbook as the exercise plays it: the timings it overrides (cadence, state
deadlines, clearance chains) and the facts it adds, applied to a copy of the playbook's
content. The incident pins that copy, so `show` and the report read what was played.

    playbook, changes = exercised(playbook, overrides, added_facts, problem, steps)

`problem(message, *steps, hint=...)` records a finding at the file:line of `steps`;
nothing is applied that does not exist in the playbook.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from crisiscomm.durations import format_duration, parse_duration
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook

__all__ = ["Problem", "exercised"]

Problem = Callable[..., None]


def _duration(value: Any, problem: Problem, steps: tuple[str | int, ...]) -> str | None:
    try:
        parse_duration(str(value))
    except ValueError as error:
        problem(str(error), *steps)
        return None
    return str(value)


def _shown(value: Any) -> str:
    try:
        return format_duration(parse_duration(str(value)))
    except ValueError:
        return str(value)


def _timings(
    content: dict[str, Any],
    overrides: Mapping[str, Any],
    problem: Problem,
    steps: tuple[str | int, ...],
) -> list[str]:
    changes: list[str] = []
    states = content.get("states") or {}
    for state, value in (overrides.get("cadence") or {}).items():
        where = (*steps, "cadence", state)
        cadence = (states.get(state) or {}).get("cadence")
        if state not in states or not cadence:
            problem(
                _("state `{state}` of playbook {playbook} promises no cadence to override").format(
                    state=state, playbook=content["id"]
                ),
                *where,
                hint=_("states with a cadence: {names}").format(
                    names=", ".join(s for s, d in states.items() if d.get("cadence")) or "-"
                ),
            )
        elif (text := _duration(value, problem, where)) is not None:
            changes.append(
                _("cadence in {state}: every {old} → every {new}").format(
                    state=state, old=_shown(cadence["every"]), new=_shown(text)
                )
            )
            cadence["every"] = text
    for state, value in (overrides.get("deadlines") or {}).items():
        where = (*steps, "deadlines", state)
        definition = states.get(state) or {}
        if state not in states or "deadline" not in definition:
            problem(
                _("state `{state}` of playbook {playbook} has no deadline to override").format(
                    state=state, playbook=content["id"]
                ),
                *where,
                hint=_("states with a deadline: {names}").format(
                    names=", ".join(s for s, d in states.items() if "deadline" in d) or "-"
                ),
            )
        elif (text := _duration(value, problem, where)) is not None:
            changes.append(
                _("deadline of {state}: {old} → {new}").format(
                    state=state, old=_shown(definition["deadline"]), new=_shown(text)
                )
            )
            definition["deadline"] = text
    return changes


def _clearance(
    content: dict[str, Any],
    overrides: Mapping[str, Any],
    problem: Problem,
    steps: tuple[str | int, ...],
) -> list[str]:
    changes: list[str] = []
    statements = content.get("statements") or {}
    roles = content.get("roles") or {}
    for name, chain in (overrides.get("clearance") or {}).items():
        where = (*steps, "clearance", name)
        statement = statements.get(name)
        if statement is None or "clearance" not in statement:
            problem(
                _("statement `{name}` of playbook {playbook} has no clearance chain").format(
                    name=name, playbook=content["id"]
                ),
                *where,
                hint=_("statements: {names}").format(names=", ".join(statements) or "-"),
            )
            continue
        unknown = [role for role in chain if role not in roles]
        if unknown:
            problem(
                _("unknown role `{role}` in playbook {playbook}").format(
                    role=unknown[0], playbook=content["id"]
                ),
                *where,
                hint=_("known: {names}").format(names=", ".join(sorted(roles))),
            )
            continue
        if list(chain) == list(statement["clearance"]):
            continue  # the chain the playbook has already: nothing changes
        changes.append(
            _("clearance of {statement}: {old} → {new}").format(
                statement=name,
                old=", ".join(statement["clearance"]),
                new=", ".join(chain),
            )
        )
        statement["clearance"] = list(chain)
        deadlines = statement.get("clearance_deadlines")
        if deadlines:  # a role no longer in the chain is chased no more
            statement["clearance_deadlines"] = {r: d for r, d in deadlines.items() if r in chain}
    return changes


def _facts(
    content: dict[str, Any],
    added: Mapping[str, Any],
    problem: Problem,
    steps: tuple[str | int, ...],
) -> list[str]:
    facts = content.setdefault("facts", {})
    changes: list[str] = []
    for name, definition in added.items():
        if name in facts:
            problem(
                _("playbook {playbook} has the fact `{name}` already").format(
                    playbook=content["id"], name=name
                ),
                *steps,
                name,
                hint=_("set its value in an inject's `facts:` instead"),
            )
            continue
        facts[name] = json.loads(json.dumps(definition))  # plain dicts, as the content's
        changes.append(_("fact added for the exercise: {name}").format(name=name))
    return changes


def exercised(
    playbook: Playbook,
    overrides: Mapping[str, Any] | None,
    added_facts: Mapping[str, Any] | None,
    problem: Problem,
    steps: tuple[str | int, ...],
) -> tuple[Playbook, tuple[str, ...]]:
    """The playbook with the exercise's overrides and added facts, and each change as the
    report lists it; the playbook itself when the exercise changes nothing."""
    from crisiscomm.playbook.model import Playbook

    if not overrides and not added_facts:
        return playbook, ()
    content = json.loads(playbook.canonical_json())  # a copy to change
    changes = _timings(content, overrides or {}, problem, (*steps, "overrides"))
    changes += _clearance(content, overrides or {}, problem, (*steps, "overrides"))
    changes += _facts(content, added_facts or {}, problem, (*steps, "exercise_facts"))
    if not changes:
        return playbook, ()
    return Playbook.from_content(content, files=playbook.files), tuple(changes)
