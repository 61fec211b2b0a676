"""The `transitions` state machine of a compiled playbook.

One Machine per playbook content hash, cached for the process, built with
`auto_transitions=False` (no `to_<state>` triggers doubling memory) and with guards that
are Python callables from this package, never strings: transitions imports and calls a
dotted string such as "os.system" (DESIGN.md pitfalls). Each machine has ONE model, added
when the machine is built; a call sets it to the incident's state and guard (under the
machine's lock), so `add_model`'s per-state cost, its growth with the number of models and
its de-duplication of equal models never come into play. No `Timeout` states: timers are
rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transitions import EventData, Machine, MachineError

from crisiscomm.playbook.model import Playbook

__all__ = ["fire"]

logger = logging.getLogger(__name__)

Guard = Callable[[dict[str, Any]], bool]


class _IncidentModel:
    """The machine's view of the incident it is deciding for, one call at a time."""

    state: str

    def __init__(self) -> None:
        self.guard: Guard = lambda _transition: False


def _allowed(transition: dict[str, Any]) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        model = event.model
        assert isinstance(model, _IncidentModel)
        return model.guard(transition)

    return condition


@dataclass(frozen=True)
class _Compiled:
    machine: Machine
    model: _IncidentModel
    lock: threading.Lock  # one call at a time uses the model (serve and watch have threads)
    # the triggers defined from each state, asked once: transitions walks every event for it
    triggers: dict[str, frozenset[str]] = field(default_factory=dict)


_MACHINES: dict[str, _Compiled] = {}


def _machine(playbook: Playbook) -> _Compiled:
    cached = _MACHINES.get(playbook.content_hash)
    if cached is not None:
        return cached
    states = list(playbook.states)
    model = _IncidentModel()
    machine = Machine(
        model=model,
        states=states,
        initial=states[0],
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
    compiled = _Compiled(machine, model, threading.Lock())
    _MACHINES[playbook.content_hash] = compiled
    return compiled


def fire(playbook: Playbook, *, state: str, trigger: str, guard: Guard) -> str | None:
    """The state `trigger` leads to from `state`, or None when the guard refuses.

    `guard(transition)` decides; the machine checks that the trigger exists from this state
    and picks the transition. Raises KeyError for a trigger unknown from this state.
    """
    compiled = _machine(playbook)
    machine, model = compiled.machine, compiled.model
    triggers = compiled.triggers.get(state)
    if triggers is None:
        triggers = compiled.triggers[state] = frozenset(machine.get_triggers(state))
    if trigger not in triggers:
        raise KeyError(trigger)
    with compiled.lock:
        machine.set_state(state, model)
        model.guard = guard
        try:
            moved = machine.events[trigger].trigger(model)
        except MachineError as error:  # pragma: no cover - filtered by get_triggers above
            raise KeyError(trigger) from error
        return model.state if moved else None
