"""Reference rules: a name used but not defined.

Roles, channels, statements, facts, checklist items, actions, severities and template
placeholders must name something the document (or crisiscomm) defines; the hint lists
what is defined.
"""

from __future__ import annotations

import re
from typing import Any

from crisiscomm.documents.findings import Severity
from crisiscomm.i18n import _
from crisiscomm.playbook.actions import ACTIONS
from crisiscomm.playbook.rules.core import Linter, NodePath, rule
from crisiscomm.templates import BUILTIN_PLACEHOLDERS, placeholders

__all__ = [
    "template_placeholder",
    "undefined_channel",
    "undefined_checklist_item",
    "undefined_fact",
    "undefined_role",
    "undefined_statement",
    "unknown_action",
    "unknown_gazetteer",
    "unknown_severity",
]

# a `$` that string.Template would reject: not `$$`, `$name` or `${name}`
STRAY_DOLLAR = re.compile(r"(?<!\$)\$(?!\$|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})")


@rule(
    "undefined-role",
    severity=Severity.ERROR,
    summary="a role is used but not defined under `roles`",
)
def undefined_role(linter: Linter) -> None:
    """A role used (owner, notify, author, clearance, transition roles, approvals,
    checklist role) that is not under `roles`.
    """
    known = sorted(linter.roles)
    for path, role in linter.role_references():
        if role not in linter.roles:
            linter.report(
                "undefined-role",
                path,
                _("role `{r}` is not defined").format(r=role),
                _("defined roles: {names}").format(names=", ".join(known) or "-"),
            )


@rule(
    "undefined-channel",
    severity=Severity.ERROR,
    summary="a channel is used but not defined under `channels`",
)
def undefined_channel(linter: Linter) -> None:
    """A channel used by a notification or a statement that is not under `channels`."""
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
        for step, deadline in (statement.get("clearance_deadlines") or {}).items():
            references += [
                (("statements", name, "clearance_deadlines", step, "channels", i), c)
                for i, c in enumerate(deadline.get("channels") or [])
            ]
    for path, channel in references:
        if channel not in linter.channels:
            linter.report(
                "undefined-channel",
                path,
                _("channel `{c}` is not defined").format(c=channel),
                _("defined channels: {names}").format(names=", ".join(known) or "-"),
            )


@rule(
    "undefined-statement",
    severity=Severity.ERROR,
    summary="a statement id is used but not defined under `statements`",
)
def undefined_statement(linter: Linter) -> None:
    """A `released` or `cleared` guard, a cadence, a `draft_statement` or an
    `until_released` naming a statement that is not under `statements`.
    """
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


@rule(
    "undefined-fact",
    severity=Severity.ERROR,
    summary="a guard needs a fact that is not defined under `facts`",
)
def undefined_fact(linter: Linter) -> None:
    """A `facts` guard naming a fact that is not under `facts`."""
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


@rule(
    "undefined-checklist-item",
    severity=Severity.ERROR,
    summary="a guard names a checklist item its source state does not have",
)
def undefined_checklist_item(linter: Linter) -> None:
    """A `checklist` guard naming an item that one of the transition's source
    states does not have (with `"*"`, every open state needs it).
    """
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


@rule(
    "unknown-action",
    severity=Severity.ERROR,
    summary="`on_enter` names an action that is not in crisiscomm's registry",
)
def unknown_action(linter: Linter) -> None:
    """An `on_enter` action outside the fixed registry, one without a parameter it
    needs, or `notify_owner` in a state with no `owner`.
    """
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


@rule(
    "unknown-severity",
    severity=Severity.ERROR,
    summary="`default_severity` is not one of `severities`",
)
def unknown_severity(linter: Linter) -> None:
    """A `default_severity` that is not one of `severities`."""
    default = linter.document.get("default_severity")
    severities = linter.document.get("severities") or {}
    if default is not None and default not in severities:
        linter.report(
            "unknown-severity",
            ("default_severity",),
            _("default severity `{s}` is not defined").format(s=default),
            _("defined severities: {names}").format(names=", ".join(sorted(severities)) or "-"),
        )


@rule(
    "template-placeholder",
    severity=Severity.ERROR,
    summary="a template uses a placeholder that is neither a fact nor a built-in",
)
def template_placeholder(linter: Linter) -> None:
    """A `$name` in a statement or notification text that is neither a fact nor a
    built-in, or a `$` that starts no placeholder.
    """
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


@rule(
    "unknown-gazetteer",
    severity=Severity.ERROR,
    summary="a `place` fact names a gazetteer list that does not exist",
)
def unknown_gazetteer(linter: Linter) -> None:
    """A fact of `type: place` whose `gazetteer` names a list that neither the office's
    gazetteer (office.yaml) nor the playbook's own has.
    """
    lists = linter.document.get("gazetteer") or {}
    for name, fact in linter.facts.items():
        if not isinstance(fact, dict) or fact.get("type") != "place":
            continue
        if fact.get("gazetteer") not in lists:
            linter.report(
                "unknown-gazetteer",
                ("facts", name, "gazetteer"),
                _(
                    "fact `{fact}` takes its places from `{list}`, which is no gazetteer list"
                ).format(fact=name, list=fact.get("gazetteer")),
                _("gazetteer lists: {names}").format(names=", ".join(sorted(lists)) or "-")
                if lists
                else _("add the list to office.yaml: {example}").format(
                    example=f"gazetteer: {{{fact.get('gazetteer')}: ...}}"
                ),
            )
