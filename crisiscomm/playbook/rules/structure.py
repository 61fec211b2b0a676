"""Structure rules: states and transitions.

A playbook needs states, an initial state, a final one, and a way from each open state
to the next; transitions must name states that exist, once per trigger and state, and a
`remove: true` must match something inherited.
"""

from __future__ import annotations

from crisiscomm.documents.findings import Severity
from crisiscomm.i18n import _
from crisiscomm.playbook.rules.core import Linter, NodePath, as_list, rule

__all__ = [
    "ambiguous_trigger",
    "dead_end",
    "missing_initial",
    "missing_states",
    "no_final_state",
    "remove_unmatched",
    "unknown_state",
    "unreachable_state",
]


@rule(
    "missing-states",
    severity=Severity.ERROR,
    summary="a playbook has no states, so no incident can be opened from it",
)
def missing_states(linter: Linter) -> None:
    """A playbook (not a `kind: protocol`) with no states after `extends`: no incident
    could be opened from it.
    """
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


@rule("missing-initial", severity=Severity.ERROR, summary="the playbook names no initial state")
def missing_initial(linter: Linter) -> None:
    """States are defined, but no `initial` says which one a new incident starts in."""
    if linter.states and "initial" not in linter.document:
        linter.report(
            "missing-initial",
            (),
            _("no `initial` state is set"),
            _("add `initial: <state>` naming the state a new incident starts in"),
        )


@rule(
    "unknown-state",
    severity=Severity.ERROR,
    summary="a transition or `initial` names a state that does not exist",
)
def unknown_state(linter: Linter) -> None:
    """`initial`, a `from` or a `to` names a state that is not defined, or a transition
    has no `to` after merging.
    """
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
        for position, source in enumerate(as_list(raw)):
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


@rule(
    "unreachable-state",
    severity=Severity.WARNING,
    summary="no chain of triggers leads from the initial state here",
)
def unreachable_state(linter: Linter) -> None:
    """A state no chain of triggers reaches from `initial`; not reported while a
    transition goes to an undefined state (that cuts the graph; fix it first).
    """
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


@rule(
    "no-final-state",
    severity=Severity.ERROR,
    summary="the playbook has no final state, so an incident can never close",
)
def no_final_state(linter: Linter) -> None:
    """No state is `final: true`, so an incident could never be closed."""
    if linter.states and not linter.final_states():
        linter.report(
            "no-final-state",
            ("states",),
            _("no state is marked `final: true`; an incident could never be closed"),
            _("mark the closing state with `final: true`"),
            key=True,
        )


@rule(
    "dead-end",
    severity=Severity.ERROR,
    summary="a non-final state has no trigger leading out of it",
)
def dead_end(linter: Linter) -> None:
    """A non-final state with no trigger leading out of it: an incident there is stuck."""
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


@rule(
    "ambiguous-trigger",
    severity=Severity.ERROR,
    summary="one trigger is defined twice from the same state",
)
def ambiguous_trigger(linter: Linter) -> None:
    """The same trigger defined twice from the same state (also through `"*"`)."""
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


@rule(
    "remove-unmatched",
    severity=Severity.WARNING,
    summary="`remove: true` matches nothing inherited",
)
def remove_unmatched(linter: Linter) -> None:
    """A `remove: true` transition or checklist item that matches nothing inherited;
    incidents ignore it.
    """
    for index, transition in enumerate(linter.transitions):
        if transition.get("remove") is True:
            linter.report(
                "remove-unmatched",
                ("transitions", index, "remove"),
                _("transition `{t}` from {f} is removed, but nothing inherited matches it").format(
                    t=transition["trigger"], f=", ".join(as_list(transition["from"]))
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
