"""The register's document kinds: `crisiscomm-inbox: 1` (inbox.yaml: lifecycles and norms)
and `crisiscomm-calendar: 1` (working days and public holidays). JSON Schema, then rules;
each finding points at the line that wrote the value.
"""

from __future__ import annotations

import re
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
    from crisiscomm.office.model import Office

__all__ = [
    "CALENDAR",
    "INBOX",
    "ITEM_PLACEHOLDERS",
    "answer_findings",
    "calendar_findings",
    "inbox_findings",
]

SCHEMA_PATH = Path(__file__).with_name("schema.json")
CALENDAR_SCHEMA_PATH = Path(__file__).with_name("calendar.schema.json")
# what `crisiscomm inbox` fires: every lifecycle has these triggers
NEEDED_TRIGGERS = ("answer", "assign", "close")
# how many lines after a template's start a `$` is looked for: to the end of the file, as a
# folded text (`>-`) spans more lines than it has; the first match is in the text itself
WHOLE_TEXT = 1 << 30
# what an answer template may use besides the linked incident's values (the built-ins of
# templates.py and the facts of its playbook), filled by answers.py; never the citizen's
# name or contact: an answer is on the item's record
ITEM_PLACEHOLDERS = frozenset(
    {"item_id", "subject", "source", "received_at", "received_on", "office"}
)

register("inbox-schema", "the file does not match the register format (JSON Schema)")
register("inbox-state", "a lifecycle names a state it does not have")
register("inbox-unreachable", "a state of a lifecycle cannot be reached from its initial state")
register("inbox-trigger", "a lifecycle lacks a trigger the inbox commands fire, or a final state")
register("inbox-norm", "a kind has a lifecycle and no norm, or a norm and no lifecycle")
register("inbox-calendar", "the calendar the register names cannot be read")
register("inbox-template", "an answer template is empty, has a stray `$`, or an unknown kind")
register("inbox-placeholder", "an answer template uses a placeholder nothing gives a value")
register("inbox-clearance", "the clearance of answers names a role nobody of the office holds")
register(
    "inbox-template-language",
    "an answer template has no text in a language of the office",
    Severity.WARNING,
)
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
    findings += _template_findings(document)
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


def _templates(document: MarkedDict) -> list[tuple[list[str | int], str]]:
    """Every answer template text with the steps to it: answers, kind, templates, name, lang."""
    return [
        (["answers", kind, "templates", name, language], text)
        for kind, spec in (document.get("answers") or {}).items()
        for name, texts in (spec.get("templates") or {}).items()
        for language, text in texts.items()
    ]


def _in_text(document: MarkedDict, steps: list[str | int], pattern: re.Pattern[str]) -> Location:
    """Where `pattern` first matches in the template at `steps`: its line inside a text of
    several lines (the playbook linter's `refine`), else where the text starts."""
    from crisiscomm.playbook.rules.core import Linter

    return Linter(document).refine(_at(document, steps), pattern, WHOLE_TEXT)


def _template_findings(document: MarkedDict) -> list[Finding]:
    """What would stop a template from rendering: its kind is none with a lifecycle, it is
    empty, a `$` starts no placeholder (cheap: run whenever the register is compiled)."""
    from crisiscomm.templates import placeholders
    from crisiscomm.texts import has_visible_text

    findings: list[Finding] = []
    lifecycles = document.get("lifecycles") or {}
    for kind in document.get("answers") or {}:
        if kind not in lifecycles:  # no such kind, or one this register has no lifecycle for
            where = location_of(document, ["answers", kind], key=True) or document.location
            message = _("unknown kind `{kind}`").format(kind=kind)
            hint = _("the kinds: {kinds}").format(kinds=", ".join(lifecycles))
            findings.append(Finding(where, "inbox-template", message, hint=hint))
    for steps, text in _templates(document):
        if not has_visible_text(text):
            message = _("the template has no visible character")
            findings.append(Finding(_at(document, steps), "inbox-template", message))
        elif placeholders(text).invalid:
            from crisiscomm.playbook.rules.references import STRAY_DOLLAR

            where = _in_text(document, steps, STRAY_DOLLAR)
            message = _("a `$` here starts no placeholder")
            hint = _("write `$$` for a dollar sign, `$name` or `${name}` for a value")
            findings.append(Finding(where, "inbox-template", message, hint=hint))
    return findings


def answer_findings(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    """What `validate` finds in the answer templates and clearance beyond the cheap checks:
    placeholders nothing fills (the item's values, the built-ins and the facts of the
    office's playbooks), and, with the office beside the register, clearance roles nobody
    holds and templates without a language of the office."""
    from crisiscomm.templates import BUILTIN_PLACEHOLDERS, placeholders

    findings: list[Finding] = []
    templates = _templates(document)
    if templates:
        known = ITEM_PLACEHOLDERS | BUILTIN_PLACEHOLDERS | _playbook_facts(path, library)
        for steps, text in templates:
            for name in dict.fromkeys(placeholders(text).names):
                if name in known:
                    continue
                near = re.compile(rf"\$(?:\{{{re.escape(name)}\}}|{re.escape(name)}\b)")
                where = _in_text(document, steps, near)
                message = _(
                    "placeholder `${p}` is none of the item's values, the built-ins or a fact "
                    "of the office's playbooks"
                ).format(p=name)
                hint = _("use one of: {names}").format(
                    names=", ".join(sorted(ITEM_PLACEHOLDERS | BUILTIN_PLACEHOLDERS))
                )
                findings.append(Finding(where, "inbox-placeholder", message, hint=hint))
    office = _office_beside(path, library)
    if office is None:
        return findings
    for kind, spec in (document.get("answers") or {}).items():
        for index, role in enumerate(spec.get("clearance") or []):
            if not office.members(role) and not office.deputies(role):
                message = _("nobody of the office holds the role `{role}`").format(role=role)
                hint = _("the office's roles: {roles}").format(roles=", ".join(office.roles))
                where = _at(document, ["answers", kind, "clearance", index])
                findings.append(Finding(where, "inbox-clearance", message, hint=hint))
        for name, texts in (spec.get("templates") or {}).items():
            lacking = [lang for lang in office.languages if lang not in texts]
            if lacking:
                message = _("the template `{name}` has no text in {langs}").format(
                    name=name, langs=", ".join(lacking)
                )
                hint = _("an asker who writes in it gets no draft from this template")
                steps = ["answers", kind, "templates", name]
                where = location_of(document, steps, key=True) or document.location
                findings.append(
                    Finding(where, "inbox-template-language", message, Severity.WARNING, hint)
                )
    return findings


def _playbook_facts(path: Path, library: Library) -> set[str]:
    """The facts the office's playbooks declare (their protocols' too): those in
    `playbooks/` beside the register, in CRISISCOMM_PLAYBOOKS and shipped."""
    import os

    from crisiscomm.documents.kinds import collect_files
    from crisiscomm.documents.library import shipped_dir
    from crisiscomm.errors import CrisisCommError

    folders = [path.parent / "playbooks"]
    folders += [Path(e) for e in os.environ.get("CRISISCOMM_PLAYBOOKS", "").split(os.pathsep) if e]
    shipped = shipped_dir("playbooks")
    if shipped is not None:
        folders.append(shipped)
    facts: set[str] = set()
    for file in collect_files([f for f in folders if f.is_dir()]):
        try:
            document, _chain = library.resolve(file)
        except CrisisCommError:  # its own validation reports it
            continue
        if isinstance(document, dict) and "crisiscomm" in document:
            facts |= set(document.get("facts") or {})
    return facts


def _office_beside(path: Path, library: Library) -> Office | None:
    """The office beside the register (or CRISISCOMM_OFFICE), compiled; None if there is
    none or it does not compile (its own validation reports why)."""
    from crisiscomm.errors import CrisisCommError
    from crisiscomm.office.find import compiled_office, office_for

    found = office_for(path)
    if found is None:
        return None
    try:
        return compiled_office(found, library=library)
    except CrisisCommError:
        return None


def _check_inbox(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    findings = inbox_findings(path, document)
    if any(f.rule == "inbox-schema" for f in findings):
        return findings
    return findings + answer_findings(path, document, library)


def _check_calendar(path: Path, document: MarkedDict, library: Library) -> list[Finding]:
    return calendar_findings(document)


INBOX = Kind("register", "crisiscomm-inbox", _check_inbox)
CALENDAR = Kind("calendar", "crisiscomm-calendar", _check_calendar)
