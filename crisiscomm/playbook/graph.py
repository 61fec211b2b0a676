"""A compiled playbook as a Mermaid `stateDiagram-v2`."""

from __future__ import annotations

import re

from crisiscomm.playbook.model import Playbook

__all__ = ["mermaid"]


def _node(name: str) -> str:
    """A Mermaid-safe state id (Mermaid ids cannot contain `-`)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _label(text: str) -> str:
    return text.replace(":", "#58;").replace('"', "#quot;").replace("\n", " ")


def mermaid(playbook: Playbook) -> str:
    """The diagram text: states with titles, grouped by nothing, triggers on the arrows."""
    states = playbook.states
    finals = {name for name, state in states.items() if state.get("final")}
    lines = ["stateDiagram-v2", f"    %% {playbook.id}: {_label(playbook.title)}"]
    for name, state in states.items():
        title = playbook.text(state.get("title"))
        if title:
            lines.append(f'    state "{_label(title)}" as {_node(name)}')
    initial = playbook.content.get("initial")
    if initial:
        lines.append(f"    [*] --> {_node(initial)}")
    for transition in playbook.transitions:
        sources = (
            transition["from"] if isinstance(transition["from"], list) else [transition["from"]]
        )
        if "*" in sources:
            sources = [s for s in states if s not in finals]
        for source in sources:
            label = playbook.text(transition.get("title"), default=transition["trigger"])
            lines.append(f"    {_node(source)} --> {_node(transition['to'])}: {_label(label)}")
    for name in finals:
        lines.append(f"    {_node(name)} --> [*]")
    return "\n".join(lines) + "\n"
