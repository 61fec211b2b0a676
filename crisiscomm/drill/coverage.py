"""Which states and transitions of each playbook a set of drills exercised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crisiscomm.drill.runner import DrillRun

__all__ = ["PlaybookCoverage", "coverage"]


@dataclass
class PlaybookCoverage:
    """One playbook's states and transitions (from, trigger, to), all and exercised."""

    playbook: str
    states: list[str]
    transitions: list[tuple[str, str, str]]
    drills: list[str] = field(default_factory=list)
    states_seen: set[str] = field(default_factory=set)
    transitions_seen: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def missed_states(self) -> list[str]:
        """States no drill entered."""
        return [s for s in self.states if s not in self.states_seen]

    @property
    def missed_transitions(self) -> list[tuple[str, str, str]]:
        """Transitions no drill fired."""
        return [t for t in self.transitions if t not in self.transitions_seen]


def coverage(runs: list[DrillRun]) -> list[PlaybookCoverage]:
    """Coverage per playbook (by id), in the order the playbooks first appear."""
    result: dict[str, PlaybookCoverage] = {}
    for run in runs:
        playbook = run.scenario.playbook
        if playbook.id not in result:
            transitions = [
                (source, t["trigger"], t["to"])
                for t in playbook.transitions
                for source in playbook.sources(t)
            ]
            result[playbook.id] = PlaybookCoverage(playbook.id, list(playbook.states), transitions)
        entry = result[playbook.id]
        entry.drills.append(run.scenario.name)
        entry.states_seen.add(playbook.initial)
        for event in run.events:
            if event.type == "transition":
                data = event.data
                entry.states_seen.add(str(data["to"]))
                entry.transitions_seen.add(
                    (str(data["from"]), str(data["trigger"]), str(data["to"]))
                )
    return list(result.values())
