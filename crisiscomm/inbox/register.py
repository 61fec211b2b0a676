"""The register document compiled: each kind's lifecycle and norm, and the work calendar.

The office's register is `inbox.yaml` named by CRISISCOMM_INBOX, else in the current folder,
else the one shipped with crisiscomm (beside the example office.yaml). Its `calendar` is a
path relative to it. A register that does not pass its check is refused, naming file:line.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from crisiscomm.errors import PlaybookError, RefusedError
from crisiscomm.i18n import _
from crisiscomm.inbox.calendar import WorkCalendar

__all__ = [
    "KINDS",
    "AnswerRules",
    "Lifecycle",
    "Norm",
    "Register",
    "Trigger",
    "compiled_register",
    "find_register",
]

KINDS = ("media_query", "question", "appeal", "post")
NAMES = ("inbox.yaml", "inbox.yml")


@dataclass(frozen=True)
class Trigger:
    """A named move of an item: from some states to another (None: it stays)."""

    name: str
    sources: tuple[str, ...]
    target: str | None
    requires: tuple[str, ...] = ()
    once: bool = False


@dataclass(frozen=True)
class Lifecycle:
    """The state machine of one kind of item."""

    kind: str
    initial: str
    states: Mapping[str, Mapping[str, bool]]
    triggers: Mapping[str, Trigger]

    def norm_met(self, state: str) -> bool:
        """Whether an item in `state` has had its answer (its deadline no longer runs)."""
        return bool(self.states.get(state, {}).get("norm_met"))

    def final(self, state: str) -> bool:
        """Whether `state` closes the item."""
        return bool(self.states.get(state, {}).get("final"))

    def fire(self, trigger: str, state: str, *, fired: tuple[str, ...] = ()) -> str:
        """The state `trigger` leads to from `state`; a refusal that names the allowed
        triggers when it does not apply (or, `once`, was fired before: `fired`)."""
        move = self.triggers.get(trigger)
        if move is None or state not in move.sources:
            allowed = sorted(n for n, t in self.triggers.items() if state in t.sources)
            raise RefusedError(
                _("an item in the state `{state}` cannot be given `{trigger}`").format(
                    state=state, trigger=trigger
                ),
                hint=_("what it can be given now: {allowed}").format(
                    allowed=", ".join(allowed) or "-"
                ),
            )
        if move.once and trigger in fired:
            raise RefusedError(
                _("`{trigger}` may be given only once, and it was").format(trigger=trigger)
            )
        return move.target or state

    def may_still(self, trigger: str, state: str) -> bool:
        """Whether `trigger` can be given in `state` or in a state the item can still reach
        (a post being checked may still be rebutted; an answered or closed item may not)."""
        reached, frontier = {state}, [state]
        while frontier:
            current = frontier.pop()
            for move in self.triggers.values():
                if current not in move.sources:
                    continue
                if move.name == trigger:
                    return True
                if move.target and move.target not in reached:
                    reached.add(move.target)
                    frontier.append(move.target)
        return False


@dataclass(frozen=True)
class AnswerRules:
    """How one kind's answers are drafted and cleared: its templates (name -> language ->
    text, the first is the default) and the roles that approve an answer, in order."""

    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    clearance: tuple[str, ...] = ()


@dataclass(frozen=True)
class Norm:
    """How fast an item of a kind must be answered (durations as in calendar.py)."""

    within: Mapping[str, int]
    during_incident: Mapping[str, int] | None = None
    extended: Mapping[str, int] | None = None
    remind_before: Mapping[str, int] | None = None
    reach_threshold: int | None = None


@dataclass(frozen=True)
class Register:
    """The compiled register document."""

    path: str
    lifecycles: Mapping[str, Lifecycle]
    norms: Mapping[str, Norm]
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    # how long after an item is closed its personal data is kept ({days: N} or {months: N})
    retention: Mapping[str, int] | None = None
    answers: Mapping[str, AnswerRules] = field(default_factory=dict)

    def answer_rules(self, kind: str) -> AnswerRules:
        """The templates and clearance of `kind`'s answers (none written: none)."""
        return self.answers.get(kind) or AnswerRules()

    def lifecycle(self, kind: str) -> Lifecycle:
        """The lifecycle of `kind`; a refusal for a kind the register does not have."""
        if kind not in self.lifecycles:
            raise RefusedError(
                _("unknown kind `{kind}`").format(kind=kind),
                hint=_("the kinds: {kinds}").format(kinds=", ".join(self.lifecycles)),
            )
        return self.lifecycles[kind]

    @classmethod
    def from_content(
        cls, content: Mapping[str, Any], *, path: str = "", calendar: WorkCalendar | None = None
    ) -> Register:
        """The register of a checked document."""
        lifecycles = {
            kind: Lifecycle(
                kind=kind,
                initial=str(spec["initial"]),
                states={name: dict(flags) for name, flags in spec["states"].items()},
                triggers={
                    name: Trigger(
                        name,
                        tuple(t["from"]),
                        t.get("to"),
                        tuple(t.get("requires") or ()),
                        bool(t.get("once")),
                    )
                    for name, t in spec["triggers"].items()
                },
            )
            for kind, spec in content["lifecycles"].items()
        }

        def duration(value: Any) -> dict[str, int] | None:
            return None if value is None else {str(k): int(v) for k, v in value.items()}

        norms = {
            kind: Norm(
                within=duration(spec["within"]) or {},
                during_incident=duration(spec.get("during_incident")),
                extended=duration(spec.get("extended")),
                remind_before=duration(spec.get("remind_before")),
                reach_threshold=spec.get("reach_threshold"),
            )
            for kind, spec in content["norms"].items()
        }
        retention = duration((content.get("personal_data") or {}).get("retention"))
        answers = {
            kind: AnswerRules(
                templates={
                    str(name): {str(lang): str(text) for lang, text in texts.items()}
                    for name, texts in (spec.get("templates") or {}).items()
                },
                clearance=tuple(str(role) for role in spec.get("clearance") or ()),
            )
            for kind, spec in (content.get("answers") or {}).items()
        }
        return cls(path, lifecycles, norms, calendar or WorkCalendar(), retention, answers)


def _shipped() -> Path | None:
    candidates = [
        Path(__file__).resolve().parents[2],
        Path(sysconfig.get_path("data")) / "share" / "crisiscomm",
        Path(sys.prefix) / "share" / "crisiscomm",
    ]
    for folder in candidates:
        for name in NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def find_register(named: str | None = None) -> Path:
    """The register file: `named`, CRISISCOMM_INBOX, ./inbox.yaml, then the shipped one."""
    for candidate in (named, os.environ.get("CRISISCOMM_INBOX")):
        if candidate:
            if not Path(candidate).is_file():
                raise RefusedError(_("{path} is no file").format(path=candidate))
            return Path(candidate)
    found = next((Path(n) for n in NAMES if Path(n).is_file()), None) or _shipped()
    if found is None:
        raise RefusedError(
            _("there is no inbox.yaml"),
            hint=_("copy the inbox.yaml shipped with crisiscomm, or set CRISISCOMM_INBOX"),
        )
    return found


def compiled_register(path: Path) -> Register:
    """The register at `path`, checked and compiled (once per process while unchanged)."""
    stat = path.stat()
    return _compile(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _compile(path: str, _mtime: int, _size: int) -> Register:
    from crisiscomm.documents.load import load_file
    from crisiscomm.documents.source import MarkedDict
    from crisiscomm.inbox.check import inbox_findings

    content = load_file(Path(path))
    if not isinstance(content, MarkedDict) or "crisiscomm-inbox" not in content:
        raise PlaybookError(_("{path} is not a register (crisiscomm-inbox: 1)").format(path=path))
    findings = inbox_findings(Path(path), content)
    if findings:
        first = findings[0]
        raise PlaybookError(
            f"{first.location}: {first.message}",
            hint=_("run `crisiscomm validate {path}`").format(path=path),
        )
    calendar = None
    if "calendar" in content:
        calendar = WorkCalendar.from_content(load_file(Path(path).parent / content["calendar"]))
    return Register.from_content(content, path=path, calendar=calendar)
