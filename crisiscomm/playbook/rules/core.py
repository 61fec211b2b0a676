"""What every lint rule family shares: the walker over a merged document and the `rule` decorator.

`Linter` holds one merged, schema-valid playbook or protocol and the findings reported on
it, with the walks several rules need (role references, notifications, templates,
durations). `rule` turns a check into a `LintRule` with its id, severity and summary; the
families (`structure`, `references`, `timing`, `statements`, `channels`) declare their
rules with it, and `crisiscomm.playbook.lint` registers them and runs them in order.

Findings point at the file and line that wrote the offending value, also when it came
from an extended protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.rules import RULES
from crisiscomm.documents.source import Location, MarkedDict, location_of

__all__ = ["Check", "LintRule", "Linter", "NodePath", "as_list", "rule"]

NodePath = tuple[str | int, ...]
Check = Callable[["Linter"], None]


@dataclass(frozen=True)
class LintRule:
    """One lint rule: its id, severity and summary, and the check that reports its findings."""

    id: str
    severity: Severity
    summary: str
    check: Check

    @property
    def description(self) -> str:
        """What the rule finds, from its check's docstring (what docs are generated from)."""
        return " ".join((self.check.__doc__ or "").split())


def rule(rule_id: str, *, severity: Severity, summary: str) -> Callable[[Check], LintRule]:
    """Declare a check as the rule `rule_id`; `crisiscomm.playbook.lint` registers it."""

    def declare(check: Check) -> LintRule:
        return LintRule(rule_id, severity, summary, check)

    return declare


def as_list(value: Any) -> list[Any]:
    """A value that may be written as one item or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Linter:
    """One merged document as the rules read it, and the findings they report on it."""

    def __init__(self, document: MarkedDict) -> None:
        self.document = document
        self.findings: list[Finding] = []
        self.states: dict[str, Any] = document.get("states") or {}
        self.roles: dict[str, Any] = document.get("roles") or {}
        self.channels: dict[str, Any] = document.get("channels") or {}
        self.statements: dict[str, Any] = document.get("statements") or {}
        self.facts: dict[str, Any] = document.get("facts") or {}
        self.transitions: list[Any] = document.get("transitions") or []
        self.is_protocol = document.get("kind") == "protocol"
        self.source_lines: dict[str, list[str]] = {}

    # -- helpers -----------------------------------------------------------------------

    def location(self, path: NodePath, *, key: bool = False) -> Location:
        """Where the value (or with `key`, its key) at `path` was written."""
        return location_of(self.document, path, key=key) or self.document.location

    def report(
        self,
        rule_id: str,
        path: NodePath,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        near: re.Pattern[str] | None = None,
        span: int = 1,
    ) -> None:
        """Record a finding at `path`; with `near`, at the first match of it inside the value."""
        location = self.location(path, key=key)
        if near is not None:
            location = self.refine(location, near, span)
        self.findings.append(Finding(location, rule_id, message, RULES[rule_id].severity, hint))

    def refine(self, location: Location, pattern: re.Pattern[str], span: int) -> Location:
        """The line and column of `pattern` in the source, within `span` lines of `location`.

        Points at the placeholder itself inside a multi-line statement text, rather than
        at the line where the text starts.
        """
        if location.file not in self.source_lines:
            try:
                with open(location.file, encoding="utf-8-sig") as source:
                    self.source_lines[location.file] = source.read().splitlines()
            except (OSError, UnicodeDecodeError):
                self.source_lines[location.file] = []
        lines = self.source_lines[location.file]
        # a block scalar (`|`) starts on the line after its key: one line more than the text
        for index in range(location.line - 1, min(len(lines), location.line + span)):
            start = location.column - 1 if index == location.line - 1 else 0
            match = pattern.search(lines[index], start)
            if match:
                return Location(location.file, index + 1, match.start() + 1)
        return location

    def final_states(self) -> set[str]:
        """The names of the states marked `final: true`."""
        return {name for name, state in self.states.items() if state.get("final") is True}

    def sources(self, transition: Any) -> list[str]:
        """The source states of a transition, with `*` expanded to every non-final state.

        None for a transition marked `remove: true` that matched nothing (compile drops it).
        """
        if transition.get("remove") is True:
            return []
        names: list[str] = []
        for source in as_list(transition.get("from")):
            if source == "*":
                names += [s for s in self.states if s not in self.final_states()]
            else:
                names.append(source)
        return names

    def role_references(self) -> Iterator[tuple[NodePath, str]]:
        """Every place a role is named: owners, checklists, notices, transitions, statements."""
        for name, state in self.states.items():
            base: NodePath = ("states", name)
            if "owner" in state:
                yield (*base, "owner"), state["owner"]
            for index, item in enumerate(state.get("checklist") or []):
                if "role" in item:
                    yield (*base, "checklist", index, "role"), item["role"]
            for path, notification in self.notifications(base, state):
                for index, role in enumerate(notification.get("notify") or []):
                    yield (*path, "notify", index), role
        for t_index, transition in enumerate(self.transitions):
            for index, role in enumerate(transition.get("roles") or []):
                yield ("transitions", t_index, "roles", index), role
            for index, role in enumerate((transition.get("guards") or {}).get("approvals") or []):
                yield ("transitions", t_index, "guards", "approvals", index), role
        for name, statement in self.statements.items():
            if "author" in statement:
                yield ("statements", name, "author"), statement["author"]
            for index, role in enumerate(statement.get("clearance") or []):
                yield ("statements", name, "clearance", index), role
            for index, role in enumerate(statement.get("release_by") or []):
                yield ("statements", name, "release_by", index), role
            for step, deadline in (statement.get("clearance_deadlines") or {}).items():
                for index, role in enumerate(deadline.get("escalate_to") or []):
                    path = ("statements", name, "clearance_deadlines", step, "escalate_to", index)
                    yield path, role

    def notifications(self, base: NodePath, state: Any) -> Iterator[tuple[NodePath, Any]]:
        """Each notification-shaped part of a state: steps, on_deadline, cadence, actions."""
        for index, step in enumerate(state.get("escalation") or []):
            yield (*base, "escalation", index), step
        if isinstance(state.get("on_deadline"), dict):
            yield (*base, "on_deadline"), state["on_deadline"]
        if isinstance(state.get("cadence"), dict):
            yield (*base, "cadence"), state["cadence"]
        for index, action in enumerate(state.get("on_enter") or []):
            if isinstance(action, dict):
                yield (*base, "on_enter", index), action

    def templates(self) -> Iterator[tuple[NodePath, str]]:
        """Every template text: statement texts and notification messages."""
        for name, statement in self.statements.items():
            for language, text in (statement.get("text") or {}).items():
                yield ("statements", name, "text", language), text
        for name, state in self.states.items():
            for path, notification in self.notifications(("states", name), state):
                message = notification.get("message")
                if isinstance(message, str):
                    yield (*path, "message"), message
                elif isinstance(message, dict):  # one per language
                    for language, text in message.items():
                        yield (*path, "message", language), text

    def durations(self) -> Iterator[tuple[NodePath, str]]:
        """Every duration: deadlines, escalation `after` and `repeat`, cadence, channel timeouts."""
        for name, state in self.states.items():
            base: NodePath = ("states", name)
            if "deadline" in state:
                yield (*base, "deadline"), state["deadline"]
            for index, step in enumerate(state.get("escalation") or []):
                yield (*base, "escalation", index, "after"), step["after"]
                if "repeat" in step:
                    yield (*base, "escalation", index, "repeat"), step["repeat"]
            cadence = state.get("cadence")
            if isinstance(cadence, str):
                yield (*base, "cadence"), cadence
            elif isinstance(cadence, dict):
                yield (*base, "cadence", "every"), cadence["every"]
        for name, statement in self.statements.items():
            for step, deadline in (statement.get("clearance_deadlines") or {}).items():
                for stage in ("remind", "deputies", "escalate"):
                    if stage in deadline:
                        path = ("statements", name, "clearance_deadlines", step, stage)
                        yield path, deadline[stage]
        for name, channel in self.channels.items():
            if "timeout" in channel:
                yield ("channels", name, "timeout"), channel["timeout"]
