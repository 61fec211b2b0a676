"""Timing rules: deadlines, escalation ladders, durations and the time zone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crisiscomm.documents.findings import Severity
from crisiscomm.documents.source import Location
from crisiscomm.durations import parse_duration
from crisiscomm.i18n import _
from crisiscomm.playbook.rules.core import Linter, NodePath, rule

__all__ = ["escalation_order", "invalid_duration", "missing_deadline", "unknown_timezone"]


def _where(location: Location, near: NodePath, linter: Linter) -> str:
    """`line 7`, or `file:7` when the location is in another file than `near`."""
    if location.file == linter.location(near).file:
        return _("line {line}").format(line=location.line)
    return f"{location.file}:{location.line}"


def _duration(text: Any) -> timedelta | None:
    """The length of a duration, or None if it is not one (invalid-duration says so)."""
    try:
        return parse_duration(text) if isinstance(text, str) else None
    except ValueError:
        return None


@rule("missing-deadline", severity=Severity.WARNING, summary="a non-final state has no deadline")
def missing_deadline(linter: Linter) -> None:
    """A non-final state without a `deadline`: nothing escalates if it stalls."""
    for name, state in linter.states.items():
        if state.get("final") is not True and "deadline" not in state:
            linter.report(
                "missing-deadline",
                ("states", name),
                _("state `{s}` has no deadline; nothing will escalate if it stalls").format(s=name),
                _("add `deadline: 30m` (or what your protocol promises)"),
                key=True,
            )


@rule(
    "escalation-order",
    severity=Severity.ERROR,
    summary="escalation steps are not in increasing order, or come after the deadline",
)
def escalation_order(linter: Linter) -> None:
    """Escalation steps not in strictly increasing `after` order, or a step after the
    state's deadline (the message says where the deadline is set).
    """
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


@rule(
    "invalid-duration",
    severity=Severity.ERROR,
    summary="a duration is not written as 30s, 15m, 2h, 1d or ISO-8601",
)
def invalid_duration(linter: Linter) -> None:
    """A deadline, escalation `after` or `repeat`, cadence or channel `timeout` that is
    not a duration (`30s`, `15m`, `2h`, `1d`, `1h30m`, ISO 8601), or is zero or over a year.
    """
    for path, text in linter.durations():
        try:
            parse_duration(text)
        except ValueError as error:
            linter.report("invalid-duration", path, str(error))


@rule(
    "unknown-timezone",
    severity=Severity.ERROR,
    summary="`timezone` is missing or not an IANA time zone name",
)
def unknown_timezone(linter: Linter) -> None:
    """A playbook without `timezone`, or a `timezone` that is not an IANA name."""
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
