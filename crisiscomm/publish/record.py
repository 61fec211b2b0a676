"""What the public may see: the released versions of statements, by incident.

Only a version named in a statement's `released` list is read, in the languages its text
was released in, with the two values the statement gave the public beside its text (the
promised next update and the hotline). Drafts, later unreleased versions, notes, facts not
used in a released text, people, approvals and contacts never leave this module: the
record holds no field they could go into. The officer's incident title is internal too;
the public sees the playbook's name for the crisis and the incident's number.

A withdrawn release keeps its text with the time and public reason of its withdrawal; a
correction (a later version marked as correcting a release) carries its public note, and
the release it corrects stays, marked as superseded at the correction's release. Who
proposed, confirmed or approved any of it is not read. A drill's incidents belong to the
exercise site only (`read_record(store, exercise=True)`), never to the real one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from crisiscomm.clock import parse_utc
from crisiscomm.i18n import LANGUAGES, _, speaking

if TYPE_CHECKING:
    from crisiscomm.playbook.model import Playbook
    from crisiscomm.store import Store
    from crisiscomm.store.rows import IncidentRow

__all__ = ["PublicIncident", "PublicRecord", "PublicStatement", "is_exercise", "read_record"]

# the values a statement may give the public beside its text
HOTLINE_VALUES = ("hotline", "phone", "helpline")


@dataclass(frozen=True)
class PublicStatement:
    """One released version of a statement, in every language it went out in."""

    incident_id: str
    statement: str
    version: int
    released_at: datetime
    titles: dict[str, str]  # language -> the statement's name
    texts: dict[str, str]  # language -> the released text
    next_update_at: datetime | None
    hotline: dict[str, str]  # language -> the hotline as the text wrote it
    corrects: int | None = None  # the released version this one corrects
    correction_note: str = ""  # what the correction changes, as cleared with its text
    superseded_at: datetime | None = None  # when a correction of this release went out
    withdrawn_at: datetime | None = None
    withdrawal_reason: str = ""

    @property
    def updated_at(self) -> datetime:
        """When the public's copy last changed: released, superseded or withdrawn."""
        return max(t for t in (self.released_at, self.superseded_at, self.withdrawn_at) if t)

    @property
    def key(self) -> str:
        """The statement's stable name in file names and identifiers: `INC-2026-0001-holding-v1`."""
        return f"{self.incident_id}-{self.statement}-v{self.version}"


@dataclass(frozen=True)
class PublicIncident:
    """An incident as the public knows it: its number, kind, languages and releases."""

    id: str
    playbook_id: str
    names: dict[str, str]  # language -> the playbook's name for the crisis ("Flood")
    languages: tuple[str, ...]
    timezone: str
    severity: str
    closed: bool
    exercise: bool
    statements: tuple[PublicStatement, ...]  # oldest release first

    @property
    def first_released_at(self) -> datetime:
        """When the incident's first statement went out."""
        return self.statements[0].released_at

    @property
    def last_released_at(self) -> datetime:
        """When the incident's newest statement went out."""
        return self.statements[-1].released_at


@dataclass(frozen=True)
class PublicRecord:
    """Every incident with at least one released statement, newest release first."""

    incidents: tuple[PublicIncident, ...]
    exercise: bool = False  # the exercise site: drills' incidents only

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of any published statement, in the order the playbooks list them."""
        return tuple(dict.fromkeys(code for i in self.incidents for code in i.languages))

    @property
    def statements(self) -> list[PublicStatement]:
        """Every released version, newest first."""
        return sorted(
            (s for i in self.incidents for s in i.statements),
            key=lambda s: (s.released_at, s.incident_id, s.statement, s.version),
            reverse=True,
        )


@cache
def _exercise_prefixes() -> tuple[str, ...]:
    """How a drill's incident title starts, in every language crisiscomm speaks
    (`drill/runner.open_exercise` titles it "EXERCISE: ...", in the drill's language)."""
    prefixes = []
    for code in LANGUAGES:
        with speaking(code):
            prefixes.append(_("EXERCISE: {title}").split("{title}")[0])
    return tuple(dict.fromkeys(prefix for prefix in prefixes if prefix.strip()))


def is_exercise(incident: IncidentRow) -> bool:
    """Whether an incident is a drill's: its title carries the exercise mark."""
    return incident.title.startswith(_exercise_prefixes())


def _value_in(value: Any, language: str) -> str:
    """A template value as one language's text wrote it (one string, or one per language)."""
    if isinstance(value, dict):
        return str(value.get(language) or "")
    return "" if value is None else str(value)


def _released(
    playbook: Playbook, incident: IncidentRow, statement: str, record: dict[str, Any]
) -> list[PublicStatement]:
    versions = {v["version"]: v for v in record.get("versions") or []}
    withdrawn = {w["hash"]: w for w in record.get("withdrawn") or []}
    found = []
    for release in record.get("released") or []:
        version = versions.get(release["version"])
        if version is None or version.get("hash") != release.get("hash"):
            continue  # a release names the exact text it let out; nothing else is public
        languages = [code for code in playbook.languages if version["texts"].get(code)]
        values = version.get("values") or {}
        hotline_value = next((values[n] for n in HOTLINE_VALUES if values.get(n)), None)
        promised = release.get("next_update_at")
        correction = version.get("correction") or {}
        withdrawal = withdrawn.get(release["hash"]) or {}
        found.append(
            PublicStatement(
                incident_id=incident.id,
                statement=statement,
                version=int(release["version"]),
                released_at=parse_utc(release["at"]),
                titles={c: playbook.statement_title(statement, c) for c in languages},
                texts={c: str(version["texts"][c]) for c in languages},
                next_update_at=parse_utc(promised) if promised else None,
                hotline={
                    c: _value_in(hotline_value, c)
                    for c in languages
                    if hotline_value is not None and _value_in(hotline_value, c)
                },
                corrects=int(correction["corrects"]) if correction else None,
                correction_note=str(correction.get("note") or ""),
                withdrawn_at=parse_utc(withdrawal["at"]) if withdrawal else None,
                withdrawal_reason=str(withdrawal.get("reason") or ""),
            )
        )
    # a correction supersedes the release it corrects from its own release on
    by_version = {s.version: s for s in found}
    for correction in found:
        corrected = by_version.get(correction.corrects or 0)
        if corrected is not None and corrected.superseded_at is None:
            by_version[corrected.version] = replace(corrected, superseded_at=correction.released_at)
    return [by_version[s.version] for s in found]


def public_incident(playbook: Playbook, incident: IncidentRow) -> PublicIncident | None:
    """The public side of one incident (its data read with statements), or None if nothing
    of it was released."""
    statements: list[PublicStatement] = []
    for statement, record in sorted((incident.data.get("statements") or {}).items()):
        if statement in playbook.statements and record:
            statements.extend(_released(playbook, incident, statement, record))
    if not statements:
        return None
    statements.sort(key=lambda s: (s.released_at, s.statement, s.version))
    languages = tuple(
        code for code in playbook.languages if any(code in s.texts for s in statements)
    )
    return PublicIncident(
        id=incident.id,
        playbook_id=playbook.id,
        names={code: playbook.text(playbook.content.get("title"), code) for code in languages},
        languages=languages,
        timezone=playbook.timezone,
        severity=incident.severity,
        closed=incident.closed_at is not None,
        exercise=is_exercise(incident),
        statements=tuple(statements),
    )


def read_record(store: Store, *, exercise: bool = False) -> PublicRecord:
    """The public record of the whole database: what `publish` renders; with `exercise`,
    the exercise site's (drills' incidents only, which the real site never holds)."""
    from crisiscomm.engine.service import load

    found = []
    for row in store.list_incidents():
        if is_exercise(row) != exercise:
            continue
        playbook, incident = load(store=store, incident_id=row.id)
        public = public_incident(playbook, incident)
        if public is not None and public.exercise == exercise:
            found.append(public)
    found.sort(key=lambda i: (i.last_released_at, i.id), reverse=True)
    return PublicRecord(tuple(found), exercise=exercise)
