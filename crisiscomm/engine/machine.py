"""The `transitions` state machine of a compiled playbook.

One Machine per playbook content hash, cached for the process, built with
`auto_transitions=False` (no `to_<state>` triggers doubling memory) and with guards that
are Python callables from this package, never strings: transitions imports and calls a
dotted string such as "os.system" (DESIGN.md pitfalls). Each call adds a fresh model for
the incident's current state and removes it after, so `add_model`'s linear cost and its
de-duplication of equal models never come into play. No `Timeout` states: timers are rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from transitions import EventData, Machine, MachineError

from crisiscomm.playbook.model import Playbook

__all__ = ["fire"]

logger = logging.getLogger(__name__)

Guard = Callable[[dict[str, Any]], bool]


class _IncidentModel:
    """The machine's view of one incident for the length of one call."""

    state: str

    def __init__(self, guard: Guard) -> None:
        self.guard = guard


def _allowed(transition: dict[str, Any]) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        model = event.model
        assert isinstance(model, _IncidentModel)
        return model.guard(transition)

    return condition


_MACHINES: dict[str, Machine] = {}


def _machine(playbook: Playbook) -> Machine:
    cached = _MACHINES.get(playbook.content_hash)
    if cached is not None:
        return cached
    machine = Machine(
        model=None,
        states=list(playbook.states),
        initial=None,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for transition in playbook.transitions:
        if "to" not in transition:
            continue
        sources: list[Any] = playbook.sources(transition)
        machine.add_transition(
            trigger=transition["trigger"],
            source=sources,
            dest=transition["to"],
            conditions=[_allowed(transition)],
        )
    _MACHINES[playbook.content_hash] = machine
    return machine


def fire(playbook: Playbook, *, state: str, trigger: str, guard: Guard) -> str | None:
    """The state `trigger` leads to from `state`, or None when the guard refuses.

    `guard(transition)` decides; the machine checks that the trigger exists from this state
    and picks the transition. Raises KeyError for a trigger unknown from this state.
    """
    machine = _machine(playbook)
    model = _IncidentModel(guard)
    machine.add_model(model, initial=state)
    try:
        if not machine.get_triggers(state) or trigger not in machine.get_triggers(state):
            raise KeyError(trigger)
        try:
            moved = machine.events[trigger].trigger(model)
        except MachineError as error:  # pragma: no cover - filtered by get_triggers above
            raise KeyError(trigger) from error
        return model.state if moved else None
    finally:
        machine.remove_model(model)
