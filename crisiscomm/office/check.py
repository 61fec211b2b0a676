"""The office document kind (`crisiscomm-office: 1`): its JSON Schema, then its rules.

Rules read the marked document, so each finding points at the office.yaml line that
wrote the value: a person nobody defined, a role with nobody in it, someone in no role,
a rotation with a gap, a login two people share, a place without a name in one of the
office's languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.kinds import Kind
from crisiscomm.documents.rules import register
from crisiscomm.documents.source import MarkedDict, location_of
from crisiscomm.i18n import _
from crisiscomm.office.model import fold
from crisiscomm.office.rotations import gaps, local_time

if TYPE_CHECKING:
    from crisiscomm.documents.library import Library

__all__ = ["OFFICE", "SCHEMA_PATH", "office_findings"]

HEADER = "crisiscomm-office"
SCHEMA_PATH = Path(__file__).with_name("schema.json")

register("office-schema", "the file does not match the office format (JSON Schema)")
register("office-person", "a role or rotation names a person the office does not have")
register("office-empty-role", "a role of the office has no members")
register("office-idle-person", "a person of the office holds no role", Severity.WARNING)
register(
    "office-rotation", "a rotation of an unknown role, someone outside the role, a gap or overlap"
)
register("office-login", "two people of the office share a login or alias")
register("office-setting", "a time zone, language or date the office gives cannot be used")
register(
    "office-norm",
    "a norm names an unknown indicator, has a value of the wrong kind, or contradicts another",
)
register(
    "office-gazetteer",
    "a place of the gazetteer lacks a name in one of the office's languages, or two share a name",
)


def _schema_findings(document: Any) -> list[Finding]:
    from crisiscomm.documents.schema import findings_of, validator_for

    return findings_of(validator_for(SCHEMA_PATH), document, "office-schema")


class _Checker:
    """Walks a schema-valid office document, collecting findings."""

    def __init__(self, document: MarkedDict) -> None:
        self.document = document
        self.people: dict[str, Any] = dict(document.get("people") or {})
        self.roles: dict[str, Any] = dict(document.get("roles") or {})
        self.findings: list[Finding] = []

    def report(
        self,
        rule: str,
        steps: list[str | int],
        message: str,
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        where = location_of(self.document, steps) or self.document.location
        self.findings.append(Finding(where, rule, message, severity, hint))

    def person_references(self) -> Iterator[tuple[list[str | int], str]]:
        for role, definition in self.roles.items():
            for key in ("members", "deputies"):
                for index, person in enumerate(definition.get(key) or []):
                    yield ["roles", role, key, index], person
        for role, rotation in (self.document.get("rotations") or {}).items():
            for index, person in enumerate(rotation.get("order") or []):
                yield ["rotations", role, "order", index], person
            for key in ("shifts", "overrides"):
                for index, entry in enumerate(rotation.get(key) or []):
                    yield ["rotations", role, key, index, "person"], entry["person"]

    def check(self) -> list[Finding]:
        known = ", ".join(sorted(self.people)) or "-"
        for steps, person in self.person_references():
            if person not in self.people:
                self.report(
                    "office-person",
                    steps,
                    _("no person `{id}` in the office").format(id=person),
                    _("people: {ids}").format(ids=known),
                )
        in_roles = set()
        for role, definition in self.roles.items():
            in_roles |= set(definition.get("members") or []) | set(definition.get("deputies") or [])
            if not definition.get("members"):
                self.report(
                    "office-empty-role",
                    ["roles", role],
                    _("role `{role}` has no members: nobody would be told or could act").format(
                        role=role
                    ),
                    _("list the people who hold it under `members`"),
                )
        for person in self.people:
            if person not in in_roles:
                self.report(
                    "office-idle-person",
                    ["people", person],
                    _("{id} holds no role: nothing reaches them").format(id=person),
                    _("add them to a role's `members` or `deputies`, or remove them"),
                    Severity.WARNING,
                )
        self.settings()
        self.logins()
        self.gazetteer()
        self.norms()
        for role, rotation in (self.document.get("rotations") or {}).items():
            self.rotation(role, rotation)
        return sorted(self.findings)

    def settings(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(self.document["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            self.report(
                "office-setting",
                ["timezone"],
                _("unknown time zone `{zone}`").format(zone=self.document["timezone"]),
                _("use an IANA name such as Asia/Tashkent"),
            )
        languages = list(self.document.get("languages") or [])
        for person, definition in self.people.items():
            language = definition.get("language")
            if language and language not in languages:
                self.report(
                    "office-setting",
                    ["people", person, "language"],
                    _("`{lang}` is not one of the office's languages").format(lang=language),
                    _("languages: {langs}").format(langs=", ".join(languages)),
                )

    def logins(self) -> None:
        owners: dict[str, str] = {fold(person): person for person in self.people}
        for person, definition in self.people.items():
            for key in ("logins", "aliases"):
                for index, name in enumerate(definition.get(key) or []):
                    owner = owners.setdefault(fold(str(name)), person)
                    if owner != person:
                        self.report(
                            "office-login",
                            ["people", person, key, index],
                            _("`{name}` means both {a} and {b}").format(
                                name=name, a=owner, b=person
                            ),
                            _("give each person logins and aliases of their own"),
                        )

    def gazetteer(self) -> None:
        """Every place named in every language, and no name typed for two places."""
        from crisiscomm.formats import name_key

        languages = list(self.document.get("languages") or [])
        for list_name, places in (self.document.get("gazetteer") or {}).items():
            owners: dict[str, str] = {}
            for place, names in places.items():
                steps: list[str | int] = ["gazetteer", list_name, place]
                missing = [lang for lang in languages if lang not in names]
                if missing:
                    self.report(
                        "office-gazetteer",
                        steps,
                        _("`{place}` of `{list}` has no name in: {langs}").format(
                            place=place, list=list_name, langs=", ".join(missing)
                        ),
                        _(
                            "statements in those languages could not name it: add `{lang}: ...`"
                        ).format(lang=missing[0]),
                    )
                for where, name in _place_names(steps, names):
                    language = where[3] if len(where) == 4 else None  # a name, not id or alias
                    if language is not None and language not in languages:
                        self.report(
                            "office-gazetteer",
                            where,
                            _("`{lang}` is not one of the office's languages").format(
                                lang=language
                            ),
                            _("languages: {langs}").format(langs=", ".join(languages)),
                        )
                    owner = owners.setdefault(name_key(name), place)
                    if owner != place:
                        self.report(
                            "office-gazetteer",
                            where,
                            _("`{name}` means both {a} and {b} in `{list}`").format(
                                name=name, a=owner, b=place, list=list_name
                            ),
                            _("give each place names of its own, e.g. `Nukus` and `Nukus city`"),
                        )

    def norms(self) -> None:
        """Each norm names a known indicator, has a value of its kind, and agrees with the rest."""
        from crisiscomm.office.norms import norm_problems

        written = self.document.get("norms") or {}
        for key, message, hint in norm_problems(written):
            self.report("office-norm", ["norms", key], message, hint)
        for key in written:
            base, dot, role = str(key).partition(".")
            if base == "clearance_time" and dot and role not in self.roles:
                self.report(
                    "office-norm",
                    ["norms", key],
                    _("no role `{role}` in the office").format(role=role),
                    _("roles: {roles}").format(roles=", ".join(self.roles)),
                )

    def rotation(self, role: str, rotation: Any) -> None:
        steps: list[str | int] = ["rotations", role]
        if role not in self.roles:
            self.report(
                "office-rotation", steps, _("no role `{role}` in the office").format(role=role)
            )
            return
        if ("order" in rotation) == ("shifts" in rotation):
            self.report(
                "office-rotation",
                steps,
                _(
                    "the {role} rotation needs either `order` (a cycle) or `shifts`, not {which}"
                ).format(role=role, which=_("both") if "order" in rotation else _("neither")),
                _('a cycle: `every: week`, `handoff: "09:00"`, `start`, `order: [ids]`'),
            )
            return
        holders = set(self.roles[role].get("members") or []) | set(
            self.roles[role].get("deputies") or []
        )
        for person_steps, person in self.person_references():
            if person_steps[:2] == steps and person in self.people and person not in holders:
                self.report(
                    "office-rotation",
                    person_steps,
                    _("{id} takes the {role} duty but is not in that role").format(
                        id=person, role=role
                    ),
                    _("add them to the role's members or deputies"),
                )
        for key in ("shifts", "overrides"):
            for index, entry in enumerate(rotation.get(key) or []):
                try:
                    start, end = local_time(entry["from"]), local_time(entry["until"])
                except ValueError as error:
                    self.report("office-rotation", [*steps, key, index], str(error))
                    return
                if end <= start:
                    self.report(
                        "office-rotation",
                        [*steps, key, index, "until"],
                        _("`until` ({end}) is not after `from`").format(end=entry["until"]),
                    )
                    return
        for gap in gaps(list(rotation.get("shifts") or [])):
            self.report(
                "office-rotation",
                [*steps, "shifts", gap.index, "from"],
                (
                    _("this shift overlaps the one before it from {start} to {end}")
                    if gap.overlap
                    else _("nobody holds the {role} duty from {start} to {end}")
                ).format(role=role, start=_local(gap.start), end=_local(gap.end)),
                _("make each shift start when the one before it ends"),
            )


def _place_names(
    steps: list[str | int], names: dict[str, Any]
) -> Iterator[tuple[list[str | int], str]]:
    """Where each name a place may be typed by is written: its id, its names per language,
    its aliases."""
    yield steps, str(steps[-1])
    for key, name in names.items():
        if key == "aliases":
            for index, alias in enumerate(name or []):
                yield [*steps, key, index], str(alias)
        else:
            yield [*steps, key], str(name)


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def office_findings(
    path: Path, document: MarkedDict, library: Library | None = None
) -> list[Finding]:
    """Every finding for an office document (for `crisiscomm validate`)."""
    findings = _schema_findings(document)
    if findings:
        return findings
    return _Checker(document).check()


OFFICE = Kind(name="office", key=HEADER, check=office_findings)
