"""The register's document kinds: `crisiscomm-inbox: 1` (inbox.yaml: lifecycles and norms)
and `crisiscomm-calendar: 1` (working days and public holidays). JSON Schema, then rules;
each finding points at the line that wrote the value.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.kinds import Kind
from crisiscomm.documents.rules import register
from crisiscomm.documents.source import Location, MarkedDict, location_of
from crisiscomm.i18n import _

if TYPE_CHECKING:
    from crisiscomm.documents.library import Library

__all__ = ["CALENDAR", "INBOX", "calendar_findings", "inbox_findings"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")
CALENDAR_SCHEMA_PATH = Path(__file__).with_name("calendar.schema.json")
# what `crisiscomm inbox` fires: every lifecycle has these triggers
NEEDED_TRIGGERS = ("answer", "assign", "close")

register("inbox-schema", "the file does not match the register format (JSON Schema)")
register("inbox-state", "a lifecycle names a state it does not have")
register("inbox-unreachable", "a state of a lifecycle cannot be reached from its initial state")
register("inbox-trigger", "a lifecycle lacks a trigger the inbox commands fire, or a final state")
register("inbox-norm", "a kind has a lifecycle and no norm, or a norm and no lifecycle")
register("inbox-calendar", "the calendar the register names cannot be read")
register("calendar-schema", "the file does not match the calendar format (JSON Schema)")
register("calendar-date", "a holiday's date does not exist, or two holidays share a date")


def _schema(path: Path, document: Any, rule: str) -> list[Finding]:
    from crisiscomm.documents.schema import findings_of, validator_for

    return findings_of(validator_for(path), document, rule)


def _at(document: MarkedDict, steps: list[str | int]) -> Location:
    return location_of(document, steps) or document.location


def inbox_findings(path: Path, document: MarkedDict) -> list[Finding]:
    """Every finding for a register document."""
    findings = _schema(SCHEMA_PATH, document, "inbox-schema")
    if findings:
        return findings

    def report(rule: str, steps: list[str | int], message: str, hint: str | None = None) -> None:
        findings.append(Finding(_at(document, steps), rule, message, Severity.ERROR, hint))

    lifecycles: dict[str, Any] = document["lifecycles"]
    norms: dict[str, Any] = document["norms"]
    for kind, lifecycle in lifecycles.items():
        states: dict[str, Any] = lifecycle["states"]
        where: list[str | int] = ["lifecycles", kind]
        if lifecycle["initial"] not in states:
            report(
                "inbox-state",
                [*where, "initial"],
                _("the initial state `{state}` is not among the states").format(
                    state=lifecycle["initial"]
                ),
            )
        reached = {lifecycle["initial"]}
        for name, trigger in lifecycle["triggers"].items():
            for index, state in enumerate(trigger["from"]):
                if state not in states:
                    report(
                        "inbox-state",
                        [*where, "triggers", name, "from", index],
                        _("trigger `{trigger}` starts from `{state}`, which is no state").format(
                            trigger=name, state=state
                        ),
                    )
            target = trigger.get("to")
            if target is not None and target not in states:
                report(
                    "inbox-state",
                    [*where, "triggers", name, "to"],
                    _("trigger `{trigger}` leads to `{state}`, which is no state").format(
                        trigger=name, state=target
                    ),
                )
        changed = True
        while changed:
            changed = False
            for trigger in lifecycle["triggers"].values():
                target = trigger.get("to")
                if target and target not in reached and reached & set(trigger["from"]):
                    reached.add(target)
                    changed = True
        for state in states:
            if state not in reached:
                report(
                    "inbox-unreachable",
                    [*where, "states", state],
                    _("no trigger leads to the state `{state}`").format(state=state),
                )
        for name in NEEDED_TRIGGERS:
            if name not in lifecycle["triggers"]:
                report(
                    "inbox-trigger",
                    [*where, "triggers"],
                    _("the lifecycle of `{kind}` has no trigger `{trigger}`").format(
                        kind=kind, trigger=name
                    ),
                )
        if not any(state.get("final") for state in states.values()):
            report(
                "inbox-trigger",
                [*where, "states"],
                _("the lifecycle of `{kind}` has no final state").format(kind=kind),
                _("mark the state that closes an item with `final: true`"),
            )
        if kind not in norms:
            report("inbox-norm", where, _("`{kind}` has no norm").format(kind=kind))
    for kind in norms:
        if kind not in lifecycles:
            report("inbox-norm", ["norms", kind], _("`{kind}` has no lifecycle").format(kind=kind))
    if "calendar" in document:
        findings += _calendar_file(path, document)
    return findings


def _calendar_file(path: Path, document: MarkedDict) -> list[Finding]:
    from crisiscomm.documents.load import load_file
    from crisiscomm.errors import LoadError

    where = _at(document, ["calendar"])
    target = path.parent / str(document["calendar"])
    if not target.is_file():
        message = _("the calendar {path} is no file").format(path=document["calendar"])
        return [Finding(where, "inbox-calendar", message)]
    try:
        content = load_file(target)
    except LoadError as error:
        return [Finding(error.location, error.rule, error.message, hint=error.hint)]
    if not isinstance(content, MarkedDict) or "crisiscomm-calendar" not in content:
        message = _("{path} is not a calendar (crisiscomm-calendar: 1)").format(
            path=document["calendar"]
        )
        return [Finding(where, "inbox-calendar", message)]
    return calendar_findings(content)


def calendar_findings(document: MarkedDict) -> list[Finding]:
    """Every finding for a calendar document."""
    findings = _schema(CALENDAR_SCHEMA_PATH, document, "calendar-schema")
    if findings:
        return findings
    seen: set[date] = set()
    for index, holiday in enumerate(document["holidays"]):
        where = _at(document, ["holidays", index, "date"])
        try:
            day = date.fromisoformat(str(holiday["date"]))
        except ValueError:
            message = _("{date} is not a date").format(date=holiday["date"])
            findings.append(Finding(where, "calendar-date", message))
            continue
        if day in seen:
            message = _("{date} is listed twice").format(date=holiday["date"])
            findings.append(Finding(where, "calendar-date", message))
        seen.add(day)
    zone = document.get("timezone")
    if zone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            message = _("unknown time zone `{zone}`").format(zone=zone)
            findings.append(Finding(_at(document, ["timezone"]), "calendar-date", message))
    return findings


def _check_inbox(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    return inbox_findings(path, document)


def _check_calendar(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    return calendar_findings(document)


INBOX = Kind("register", "crisiscomm-inbox", _check_inbox)
CALENDAR = Kind("calendar", "crisiscomm-calendar", _check_calendar)
