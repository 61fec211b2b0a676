"""Semantic lint rules over a merged, schema-valid playbook or protocol.

Each rule has a stable slug id (used in output, SARIF and docs), a severity and a hint.
Rules read the marked document so each finding points at the file and line that wrote
the offending value, also when it came from an extended protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.rules import LOADING_RULES, Rule, register
from crisiscomm.documents.rules import RULES as ALL_RULES
from crisiscomm.documents.source import Location, MarkedDict, location_of
from crisiscomm.durations import parse_duration
from crisiscomm.i18n import _
from crisiscomm.playbook.actions import ACTIONS
from crisiscomm.templates import BUILTIN_PLACEHOLDERS, placeholders

__all__ = ["RULES", "Rule", "lint"]

NodePath = tuple[str | int, ...]


# the playbook kind's rules: the loading stages' and the lint rules below
RULES: dict[str, Rule] = {rule_id: ALL_RULES[rule_id] for rule_id in LOADING_RULES}
_CHECKS: list[Callable[[_Linter], None]] = []


def _rule(
    rule_id: str, summary: str, severity: Severity = Severity.ERROR
) -> Callable[[Callable[[_Linter], None]], Callable[[_Linter], None]]:
    def add(check: Callable[[_Linter], None]) -> Callable[[_Linter], None]:
        RULES[rule_id] = register(rule_id, summary, severity)
        _CHECKS.append(check)
        return check

    return add


SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api[_-]?key|authorization|credential|private[_-]?key)",
    re.IGNORECASE,
)
ENV_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
# `Authorization: Bearer ${TOKEN}`: a scheme word before the reference is fine
SECRET_VALUE_OK = re.compile(r"^(?:[A-Za-z-]+ +)?\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
# a `$` that string.Template would reject: not `$$`, `$name` or `${name}`
STRAY_DOLLAR = re.compile(r"(?<!\$)\$(?!\$|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})")
URL_SECRET = re.compile(
    r"^[a-z][a-z0-9+.-]*://[^/@\s]+:[^/@\s]+@"  # user:password@host
    r"|[?&][a-z_]*(?:token|key|secret|password|passwd|sig|signature)=(?!\$\{)[^&\s]+"
    r"|/bot\d+:[A-Za-z0-9_-]{20,}",  # a Telegram bot token in the path
    re.IGNORECASE,
)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Linter:
    """Runs the checks over one document and collects findings."""

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
        return location_of(self.document, path, key=key) or self.document.location

    def report(
        self,
        rule: str,
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
        self.findings.append(Finding(location, rule, message, RULES[rule].severity, hint))

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
        return {name for name, state in self.states.items() if state.get("final") is True}

    def sources(self, transition: Any) -> list[str]:
        """The source states of a transition, with `*` expanded to every non-final state.

        None for a transition marked `remove: true` that matched nothing (compile drops it).
        """
        if transition.get("remove") is True:
            return []
        names: list[str] = []
        for source in _as_list(transition.get("from")):
            if source == "*":
                names += [s for s in self.states if s not in self.final_states()]
            else:
                names.append(source)
        return names

    def role_references(self) -> Iterator[tuple[NodePath, str]]:
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
        for name, statement in self.statements.items():
            for language, text in (statement.get("text") or {}).items():
                yield ("statements", name, "text", language), text
        for name, state in self.states.items():
            for path, notification in self.notifications(("states", name), state):
                if isinstance(notification.get("message"), str):
                    yield (*path, "message"), notification["message"]

    def durations(self) -> Iterator[tuple[NodePath, str]]:
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
        for name, channel in self.channels.items():
            if "timeout" in channel:
                yield ("channels", name, "timeout"), channel["timeout"]


def _where(location: Location, near: NodePath, linter: _Linter) -> str:
    """`line 7`, or `file:7` when the location is in another file than `near`."""
    if location.file == linter.location(near).file:
        return _("line {line}").format(line=location.line)
    return f"{location.file}:{location.line}"


def _duration(text: Any) -> timedelta | None:
    try:
        return parse_duration(text) if isinstance(text, str) else None
    except ValueError:
        return None


# -- the rules -------------------------------------------------------------------------


@_rule("missing-states", "a playbook has no states, so no incident can be opened from it")
def _missing_states(linter: _Linter) -> None:
    if not linter.states and not linter.is_protocol:
        linter.report(
            "missing-states",
            (),
            _("the playbook has no `states`: no incident could be opened from it"),
            _(
                "build on the shipped protocol with `extends: standard`, or define `states:` "
                "and `initial:`"
            ),
        )


@_rule("missing-initial", "the playbook names no initial state")
def _missing_initial(linter: _Linter) -> None:
    if linter.states and "initial" not in linter.document:
        linter.report(
            "missing-initial",
            (),
            _("no `initial` state is set"),
            _("add `initial: <state>` naming the state a new incident starts in"),
        )


@_rule("unknown-state", "a transition or `initial` names a state that does not exist")
def _unknown_state(linter: _Linter) -> None:
    known = set(linter.states)
    hint = _("defined states: {names}").format(names=", ".join(sorted(known)) or "-")
    initial = linter.document.get("initial")
    if initial is not None and initial not in known:
        linter.report(
            "unknown-state",
            ("initial",),
            _("initial state `{s}` is not defined").format(s=initial),
            hint,
        )
    for index, transition in enumerate(linter.transitions):
        if transition.get("remove") is True:
            continue  # an unmatched removal: remove-unmatched reports it
        target = transition.get("to")
        if target is None:
            linter.report(
                "unknown-state",
                ("transitions", index),
                _("trigger `{t}` has no `to` state").format(t=transition["trigger"]),
                _("add `to: <state>`; only an override of an inherited transition may omit it"),
            )
        elif target is not None and target not in known:
            linter.report(
                "unknown-state",
                ("transitions", index, "to"),
                _("trigger `{t}` goes to state `{s}`, which is not defined").format(
                    t=transition["trigger"], s=target
                ),
                hint,
            )
        raw = transition.get("from")
        for position, source in enumerate(_as_list(raw)):
            if source != "*" and source not in known:
                path: NodePath = ("transitions", index, "from")
                if isinstance(raw, list):
                    path = (*path, position)
                linter.report(
                    "unknown-state",
                    path,
                    _("trigger `{t}` starts from state `{s}`, which is not defined").format(
                        t=transition["trigger"], s=source
                    ),
                    hint,
                )


@_rule(
    "unreachable-state", "no chain of triggers leads from the initial state here", Severity.WARNING
)
def _unreachable_state(linter: _Linter) -> None:
    initial = linter.document.get("initial")
    if initial not in linter.states:
        return
    if any(
        transition.get("remove") is not True and transition.get("to") not in linter.states
        for transition in linter.transitions
    ):
        return  # a transition to a misspelt state cuts the graph: unknown-state says so
    reached = {initial}
    frontier = [initial]
    while frontier:
        state = frontier.pop()
        for transition in linter.transitions:
            target = transition.get("to")
            if (
                target in linter.states
                and target not in reached
                and state in linter.sources(transition)
            ):
                reached.add(target)
                frontier.append(target)
    for name in linter.states:
        if name not in reached:
            linter.report(
                "unreachable-state",
                ("states", name),
                _("state `{s}` cannot be reached from the initial state `{i}`").format(
                    s=name, i=initial
                ),
                _("add a transition into it, or remove it"),
                key=True,
            )


@_rule("no-final-state", "the playbook has no final state, so an incident can never close")
def _no_final_state(linter: _Linter) -> None:
    if linter.states and not linter.final_states():
        linter.report(
            "no-final-state",
            ("states",),
            _("no state is marked `final: true`; an incident could never be closed"),
            _("mark the closing state with `final: true`"),
            key=True,
        )


@_rule("dead-end", "a non-final state has no trigger leading out of it")
def _dead_end(linter: _Linter) -> None:
    leaving = {s for t in linter.transitions if t.get("to") for s in linter.sources(t)}
    for name, state in linter.states.items():
        if state.get("final") is not True and name not in leaving:
            linter.report(
                "dead-end",
                ("states", name),
                _("state `{s}` is not final but no trigger leads out of it").format(s=name),
                _("add a transition from `{s}`, or mark it `final: true`").format(s=name),
                key=True,
            )


@_rule("missing-deadline", "a non-final state has no deadline", Severity.WARNING)
def _missing_deadline(linter: _Linter) -> None:
    for name, state in linter.states.items():
        if state.get("final") is not True and "deadline" not in state:
            linter.report(
                "missing-deadline",
                ("states", name),
                _("state `{s}` has no deadline; nothing will escalate if it stalls").format(s=name),
                _("add `deadline: 30m` (or what your protocol promises)"),
                key=True,
            )


@_rule(
    "escalation-order", "escalation steps are not in increasing order, or come after the deadline"
)
def _escalation_order(linter: _Linter) -> None:
    for name, state in linter.states.items():
        deadline = _duration(state.get("deadline"))
        previous: timedelta | None = None
        for index, step in enumerate(state.get("escalation") or []):
            after = _duration(step.get("after"))
            if after is None:
                continue  # invalid-duration reports it
            path: NodePath = ("states", name, "escalation", index, "after")
            if previous is not None and after <= previous:
                linter.report(
                    "escalation-order",
                    path,
                    _(
                        "escalation step {n} of `{s}` comes at {after}, "
                        "not after the step before it"
                    ).format(n=index + 1, s=name, after=step["after"]),
                    _("order the steps by `after`, each later than the one before"),
                )
            elif deadline is not None and after > deadline:
                linter.report(
                    "escalation-order",
                    path,
                    _(
                        "escalation step {n} of `{s}` comes at {after}, "
                        "after the deadline {d} (set at {where})"
                    ).format(
                        n=index + 1,
                        s=name,
                        after=step["after"],
                        d=state["deadline"],
                        where=_where(linter.location(("states", name, "deadline")), path, linter),
                    ),
                    _(
                        "bring it forward, or use `on_deadline` for who is told "
                        "when the deadline is missed"
                    ),
                )
            previous = after


@_rule("undefined-role", "a role is used but not defined under `roles`")
def _undefined_role(linter: _Linter) -> None:
    known = sorted(linter.roles)
    for path, role in linter.role_references():
        if role not in linter.roles:
            linter.report(
                "undefined-role",
                path,
                _("role `{r}` is not defined").format(r=role),
                _("defined roles: {names}").format(names=", ".join(known) or "-"),
            )


@_rule("undefined-channel", "a channel is used but not defined under `channels`")
def _undefined_channel(linter: _Linter) -> None:
    known = sorted(linter.channels)
    references: list[tuple[NodePath, Any]] = []
    for name, state in linter.states.items():
        for path, notification in linter.notifications(("states", name), state):
            references += [
                ((*path, "channels", i), c)
                for i, c in enumerate(notification.get("channels") or [])
            ]
    for name, statement in linter.statements.items():
        references += [
            (("statements", name, "channels", i), c)
            for i, c in enumerate(statement.get("channels") or [])
        ]
    for path, channel in references:
        if channel not in linter.channels:
            linter.report(
                "undefined-channel",
                path,
                _("channel `{c}` is not defined").format(c=channel),
                _("defined channels: {names}").format(names=", ".join(known) or "-"),
            )


@_rule("undefined-statement", "a statement id is used but not defined under `statements`")
def _undefined_statement(linter: _Linter) -> None:
    references: list[tuple[NodePath, Any]] = []
    for index, transition in enumerate(linter.transitions):
        guards = transition.get("guards") or {}
        for kind in ("released", "cleared"):
            references += [
                (("transitions", index, "guards", kind, i), s)
                for i, s in enumerate(guards.get(kind) or [])
            ]
    for name, state in linter.states.items():
        cadence = state.get("cadence")
        if isinstance(cadence, dict) and "statement" in cadence:
            references.append((("states", name, "cadence", "statement"), cadence["statement"]))
        for index, action in enumerate(state.get("on_enter") or []):
            if isinstance(action, dict) and "statement" in action:
                references.append(
                    (("states", name, "on_enter", index, "statement"), action["statement"])
                )
        for index, step in enumerate(state.get("escalation") or []):
            references += [
                (("states", name, "escalation", index, "until_released", i), statement)
                for i, statement in enumerate(step.get("until_released") or [])
            ]
    for path, statement in references:
        if statement not in linter.statements:
            linter.report(
                "undefined-statement",
                path,
                _("statement `{s}` is not defined").format(s=statement),
                _("defined statements: {names}").format(
                    names=", ".join(sorted(linter.statements)) or "-"
                ),
            )


@_rule("undefined-fact", "a guard needs a fact that is not defined under `facts`")
def _undefined_fact(linter: _Linter) -> None:
    for index, transition in enumerate(linter.transitions):
        for i, fact in enumerate((transition.get("guards") or {}).get("facts") or []):
            if fact not in linter.facts:
                linter.report(
                    "undefined-fact",
                    ("transitions", index, "guards", "facts", i),
                    _("fact `{f}` is not defined").format(f=fact),
                    _("defined facts: {names}").format(
                        names=", ".join(sorted(linter.facts)) or "-"
                    ),
                )


@_rule("undefined-checklist-item", "a guard names a checklist item its source state does not have")
def _undefined_checklist_item(linter: _Linter) -> None:
    for index, transition in enumerate(linter.transitions):
        items = (transition.get("guards") or {}).get("checklist")
        if not isinstance(items, list):
            continue
        for source in linter.sources(transition):
            state = linter.states.get(source) or {}
            known = {item["id"] for item in state.get("checklist") or []}
            for i, item in enumerate(items):
                if item not in known:
                    linter.report(
                        "undefined-checklist-item",
                        ("transitions", index, "guards", "checklist", i),
                        _("state `{s}` has no checklist item `{item}`").format(s=source, item=item),
                        _("its items: {names}").format(names=", ".join(sorted(known)) or "-"),
                    )


@_rule("unknown-action", "`on_enter` names an action that is not in crisiscomm's registry")
def _unknown_action(linter: _Linter) -> None:
    for name, state in linter.states.items():
        for index, action in enumerate(state.get("on_enter") or []):
            action_name = action["action"] if isinstance(action, dict) else action
            path: NodePath = ("states", name, "on_enter", index)
            if action_name not in ACTIONS:
                linter.report(
                    "unknown-action",
                    path,
                    _("`{a}` is not an action crisiscomm knows").format(a=action_name),
                    _("available actions: {names}").format(names=", ".join(sorted(ACTIONS))),
                )
                continue
            if action_name == "notify_owner" and not state.get("owner"):
                linter.report(
                    "unknown-action",
                    path,
                    _("`notify_owner` in state `{s}`, which has no `owner`").format(s=name),
                    _("give the state an `owner`, or use `notify` with the roles to tell"),
                )
            given = action if isinstance(action, dict) else {}
            for parameter in ACTIONS[action_name]:
                if parameter not in given:
                    linter.report(
                        "unknown-action",
                        path,
                        _("action `{a}` needs `{p}`").format(a=action_name, p=parameter),
                        _("write it as a mapping: `- action: {a}` with `{p}: ...`").format(
                            a=action_name, p=parameter
                        ),
                    )


@_rule("unknown-severity", "`default_severity` is not one of `severities`")
def _unknown_severity(linter: _Linter) -> None:
    default = linter.document.get("default_severity")
    severities = linter.document.get("severities") or {}
    if default is not None and default not in severities:
        linter.report(
            "unknown-severity",
            ("default_severity",),
            _("default severity `{s}` is not defined").format(s=default),
            _("defined severities: {names}").format(names=", ".join(sorted(severities)) or "-"),
        )


@_rule(
    "template-placeholder", "a template uses a placeholder that is neither a fact nor a built-in"
)
def _template_placeholder(linter: _Linter) -> None:
    known = BUILTIN_PLACEHOLDERS | set(linter.facts)
    for path, text in linter.templates():
        found = placeholders(text)
        for name in dict.fromkeys(found.names):
            if name not in known:
                linter.report(
                    "template-placeholder",
                    path,
                    _("placeholder `${p}` is neither a fact nor a built-in").format(p=name),
                    _("declare it under `facts`, or use one of: {names}").format(
                        names=", ".join(sorted(known))
                    ),
                    near=re.compile(rf"\$(?:\{{{re.escape(name)}\}}|{re.escape(name)}\b)"),
                    span=text.count("\n") + 1,
                )
        if found.invalid:
            linter.report(
                "template-placeholder",
                path,
                _("a `$` here starts no placeholder"),
                _("write `$$` for a dollar sign, `$name` or `${name}` for a value"),
                near=STRAY_DOLLAR,
                span=text.count("\n") + 1,
            )


@_rule("missing-language", "a statement lacks a text in one of the playbook's `languages`")
def _missing_language(linter: _Linter) -> None:
    languages = linter.document.get("languages") or []
    if linter.statements and not languages and not linter.is_protocol:
        linter.report(
            "missing-language",
            (),
            _("statements are defined but no `languages` are listed"),
            _("add e.g. `languages: [kaa, uz, ru, en]`"),
        )
    for name, statement in linter.statements.items():
        texts = statement.get("text") or {}
        path: NodePath = (
            ("statements", name, "text") if "text" in statement else ("statements", name)
        )
        missing = [language for language in languages if not str(texts.get(language, "")).strip()]
        if missing:
            linter.report(
                "missing-language",
                path,
                _("statement `{s}` has no text in: {langs}").format(
                    s=name, langs=", ".join(missing)
                ),
                _("every public statement must exist in every language of `languages`"),
                key="text" in statement,
            )


@_rule(
    "holding-statement-next-update", "a holding statement does not say when the next update comes"
)
def _holding_next_update(linter: _Linter) -> None:
    for name, statement in linter.statements.items():
        if statement.get("kind") != "holding":
            continue
        for language, text in (statement.get("text") or {}).items():
            if "next_update_at" not in placeholders(text).names:
                linter.report(
                    "holding-statement-next-update",
                    ("statements", name, "text", language),
                    _(
                        "holding statement `{s}` ({lang}) does not say when the next update comes"
                    ).format(s=name, lang=language),
                    _("include `$next_update_at`, e.g. ")
                    + "The next update will follow at $next_update_at.",
                )


@_rule("ambiguous-trigger", "one trigger is defined twice from the same state")
def _ambiguous_trigger(linter: _Linter) -> None:
    seen: dict[tuple[str, str], int] = {}
    for index, transition in enumerate(linter.transitions):
        for source in dict.fromkeys(linter.sources(transition)):
            key = (transition["trigger"], source)
            if key in seen:
                first = linter.location(("transitions", seen[key]))
                linter.report(
                    "ambiguous-trigger",
                    ("transitions", index, "trigger"),
                    _("trigger `{t}` from state `{s}` is defined twice (first at {where})").format(
                        t=transition["trigger"], s=source, where=f"{first.file}:{first.line}"
                    ),
                    _("give one of them a different trigger name"),
                )
            else:
                seen[key] = index


@_rule("invalid-duration", "a duration is not written as 30s, 15m, 2h, 1d or ISO-8601")
def _invalid_duration(linter: _Linter) -> None:
    for path, text in linter.durations():
        try:
            parse_duration(text)
        except ValueError as error:
            linter.report("invalid-duration", path, str(error))


@_rule("unknown-timezone", "`timezone` is missing or not an IANA time zone name")
def _unknown_timezone(linter: _Linter) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = linter.document.get("timezone")
    if zone is None:
        if not linter.is_protocol:
            linter.report(
                "unknown-timezone",
                (),
                _("no `timezone` is set; times would be shown in UTC"),
                _("add e.g. `timezone: Asia/Tashkent`"),
            )
        return
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        linter.report(
            "unknown-timezone",
            ("timezone",),
            _("`{z}` is not an IANA time zone").format(z=zone),
            _("use a name such as Asia/Tashkent, Asia/Samarkand or Europe/Moscow"),
        )


@_rule(
    "literal-secret", "a password, token or secret is written in the file instead of `${ENV_VAR}`"
)
def _literal_secret(linter: _Linter) -> None:
    def walk(node: Any, path: NodePath) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                child: NodePath = (*path, key)
                if (
                    isinstance(value, str)
                    and SECRET_KEY.search(key)
                    and value
                    and not SECRET_VALUE_OK.match(value)
                ):
                    linter.report(
                        "literal-secret",
                        child,
                        _("`{k}` holds a literal secret").format(k=key),
                        _("write `${ENV_VAR}` and set that variable where crisiscomm runs"),
                    )
                elif isinstance(value, str) and key == "url" and URL_SECRET.search(value):
                    linter.report(
                        "literal-secret",
                        child,
                        _("the URL contains a password or token"),
                        _("move it to `secret:` or a header written as `${ENV_VAR}`"),
                    )
                else:
                    walk(value, child)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(linter.channels, ("channels",))


CHANNEL_FIELDS: dict[str, frozenset[str]] = {
    "console": frozenset({"type", "description", "stream"}),
    "file": frozenset({"type", "description", "path"}),
    "smtp": frozenset(
        {"type", "description", "host", "port", "security", "username", "password", "sender", "to"}
        | {"timeout", "ca_file"}
    ),
    "webhook": frozenset({"type", "description", "url", "secret", "headers", "timeout", "ca_file"}),
}


@_rule("channel-config", "a channel has a setting its type does not use, or an unusable one")
def _channel_config(linter: _Linter) -> None:
    for name, statement in linter.statements.items():
        for index, channel in enumerate(statement.get("channels") or []):
            definition = linter.channels.get(channel) or {}
            if definition.get("type") == "smtp" and not definition.get("to"):
                linter.report(
                    "channel-config",
                    ("statements", name, "channels", index),
                    _("statement `{s}` goes out by e-mail channel `{c}`, which has no `to`").format(
                        s=name, c=channel
                    ),
                    _("give the channel `to: [press-list@example.uz, ...]`"),
                )
    for name, channel in linter.channels.items():
        kind = channel["type"]
        allowed = CHANNEL_FIELDS[kind]
        for key in channel:
            if key not in allowed:
                linter.report(
                    "channel-config",
                    ("channels", name, key),
                    _("`{k}` does not apply to a {t} channel").format(k=key, t=kind),
                    _("a {t} channel takes: {names}").format(
                        t=kind, names=", ".join(sorted(allowed))
                    ),
                    key=True,
                )
        url = channel.get("url")
        if (
            kind == "webhook"
            and isinstance(url, str)
            and not (url.startswith(("https://", "http://")) or ENV_REFERENCE.match(url))
        ):
            linter.report(
                "channel-config",
                ("channels", name, "url"),
                _("webhook URL `{u}` is not an http:// or https:// address").format(u=url),
                _("write the full address, e.g. https://chat.example.uz/hooks/press"),
            )
        if (
            kind == "webhook"
            and isinstance(url, str)
            and url.startswith("http://")
            and channel.get("ca_file")
        ):
            linter.report(
                "channel-config",
                ("channels", name, "ca_file"),
                _("`ca_file` is used only for https:// addresses"),
                _("use the receiver's https:// address, or remove `ca_file`"),
            )
        if kind == "smtp":
            # what can be checked of an e-mail server's settings without connecting
            from crisiscomm.notify.check import smtp_problems

            for problem in smtp_problems(channel):
                linter.report(
                    "channel-config",
                    ("channels", name),
                    _("channel `{c}`: {problem}").format(c=name, problem=problem),
                    key=True,
                )
        sender = channel.get("sender")
        if (
            kind == "smtp"
            and isinstance(sender, str)
            and "@" not in sender
            and not ENV_REFERENCE.match(sender)
        ):
            linter.report(
                "channel-config",
                ("channels", name, "sender"),
                _("sender `{s}` is not an e-mail address").format(s=sender),
                _("write e.g. press@example.uz"),
            )


@_rule("remove-unmatched", "`remove: true` matches nothing inherited", Severity.WARNING)
def _remove_unmatched(linter: _Linter) -> None:
    for index, transition in enumerate(linter.transitions):
        if transition.get("remove") is True:
            linter.report(
                "remove-unmatched",
                ("transitions", index, "remove"),
                _("transition `{t}` from {f} is removed, but nothing inherited matches it").format(
                    t=transition["trigger"], f=", ".join(_as_list(transition["from"]))
                ),
                _("`remove` needs the same `trigger` and `from` as the protocol's transition"),
            )
    for name, state in linter.states.items():
        for index, item in enumerate(state.get("checklist") or []):
            if item.get("remove") is True:
                linter.report(
                    "remove-unmatched",
                    ("states", name, "checklist", index, "remove"),
                    _(
                        "checklist item `{i}` of `{s}` is removed, but nothing inherited has it"
                    ).format(i=item["id"], s=name),
                    _("check the item's `id` against the protocol"),
                )


@_rule("missing-cadence", "statements promise `$next_update_at` but no state has a `cadence`")
def _missing_cadence(linter: _Linter) -> None:
    if any("cadence" in state for state in linter.states.values()):
        return
    for path, text in linter.templates():
        if path[0] == "statements" and "next_update_at" in placeholders(text).names:
            linter.report(
                "missing-cadence",
                path,
                _("`$next_update_at` has no value: no state has a follow-up `cadence`"),
                _("give the follow-up state e.g. `cadence: {every: 2h, statement: update}`"),
                near=re.compile(r"\$\{?next_update_at\b"),
                span=text.count("\n") + 1,
            )
            return


@_rule(
    "missing-email", "an e-mail notification would reach a person with no `email`", Severity.WARNING
)
def _missing_email(linter: _Linter) -> None:
    for name, state in linter.states.items():
        for path, notification in linter.notifications(("states", name), state):
            channels = notification.get("channels") or []
            if not any((linter.channels.get(c) or {}).get("type") == "smtp" for c in channels):
                continue
            for role in notification.get("notify") or []:
                definition = linter.roles.get(role) or {}
                people = [*(definition.get("members") or []), *(definition.get("deputies") or [])]
                for person in people:
                    if not person.get("email"):
                        linter.report(
                            "missing-email",
                            (*path, "channels"),
                            _(
                                "{p} of role `{r}` has no `email`: the e-mail would not reach them"
                            ).format(p=person["name"], r=role),
                            _("add their `email`, or notify them by another channel too"),
                        )


@_rule("self-approval", "a statement's clearance chain has no approver other than its author")
def _self_approval(linter: _Linter) -> None:
    for name, statement in linter.statements.items():
        author = statement.get("author")
        clearance = statement.get("clearance") or []
        if author and clearance and all(role == author for role in clearance):
            linter.report(
                "self-approval",
                ("statements", name, "clearance"),
                _("statement `{s}` would be cleared only by its author's role `{r}`").format(
                    s=name, r=author
                ),
                _("add an approver from another role (four-eyes: the author may not approve)"),
            )


def lint(document: MarkedDict) -> list[Finding]:
    """All lint findings for a merged, schema-valid document."""
    linter = _Linter(document)
    for check in _CHECKS:
        check(linter)
    return linter.findings
