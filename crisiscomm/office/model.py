"""The compiled office: people with stable ids, roles held by them, duty rotations.

Names a person types or the record shows resolve to the person's id: the id itself, any
of their logins or aliases, or their full name, ignoring case and surrounding spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["OUTBOX_RETENTION", "Key", "Office", "Person", "fold"]

OUTBOX_RETENTION = "30d"  # how long sent notifications stay in the outbox, by default


def fold(name: str) -> str:
    """A typed name as it is compared: case and surrounding or repeated spaces ignored."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Key:
    """A person's Ed25519 public key (`ssh-ed25519 AAAA...`), revoked from a date or not."""

    key: str
    revoked: date | None = None

    def valid_on(self, day: date) -> bool:
        """Whether the key may sign on `day` (local date)."""
        return self.revoked is None or day < self.revoked


@dataclass(frozen=True)
class Person:
    """Someone of the office, by a stable id."""

    id: str
    name: str
    logins: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    position: str = ""
    language: str = ""
    email: str = ""
    phone: str = ""
    telegram: str = ""
    keys: tuple[Key, ...] = ()

    def names(self) -> set[str]:
        """Every folded name that means this person."""
        return {fold(n) for n in (self.id, self.name, *self.logins, *self.aliases)}

    def as_member(self) -> dict[str, Any]:
        """The person as a playbook role member (what notifications and the record read)."""
        member: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.logins:
            member["login"] = self.logins[0]
        for key in ("position", "language", "email", "phone", "telegram"):
            if getattr(self, key):
                member[key] = getattr(self, key)
        if self.aliases or self.logins[1:]:
            member["aliases"] = [*self.logins[1:], *self.aliases]
        return member


@dataclass(frozen=True)
class Office:
    """The office as written in office.yaml, checked. Read it; never change it."""

    id: str
    name: Mapping[str, str]
    timezone: str
    languages: tuple[str, ...]
    people: Mapping[str, Person]
    roles: Mapping[str, Any]
    rotations: Mapping[str, Any]
    channels: Mapping[str, Any]
    gazetteer: Mapping[str, Any] = field(default_factory=dict)  # places by list, then id
    norms: Mapping[str, Any] = field(default_factory=dict)  # as written; office/norms.py reads it
    acting_for_allowed: bool = False
    require_signatures: bool = False
    outbox_retention: str = OUTBOX_RETENTION  # sent notifications kept this long
    path: str = ""

    @classmethod
    def from_content(cls, content: Mapping[str, Any], *, path: str = "") -> Office:
        """An office from its checked content (plain dicts and lists)."""
        people = {
            person_id: Person(
                id=person_id,
                name=str(person["name"]),
                logins=tuple(person.get("logins") or ()),
                aliases=tuple(person.get("aliases") or ()),
                position=str(person.get("position") or ""),
                language=str(person.get("language") or ""),
                email=str(person.get("email") or ""),
                phone=str(person.get("phone") or ""),
                telegram=str(person.get("telegram") or ""),
                keys=tuple(
                    Key(
                        str(k["key"]),
                        date.fromisoformat(k["revoked"]) if k.get("revoked") else None,
                    )
                    for k in person.get("keys") or ()
                ),
            )
            for person_id, person in (content.get("people") or {}).items()
        }
        name = content.get("name")
        settings = content.get("settings") or {}
        return cls(
            id=str(content["id"]),
            name=MappingProxyType(dict(name) if isinstance(name, dict) else {"": str(name)}),
            timezone=str(content["timezone"]),
            languages=tuple(content.get("languages") or ()),
            people=MappingProxyType(people),
            roles=MappingProxyType(dict(content.get("roles") or {})),
            rotations=MappingProxyType(dict(content.get("rotations") or {})),
            channels=MappingProxyType(dict(content.get("channels") or {})),
            gazetteer=MappingProxyType(dict(content.get("gazetteer") or {})),
            norms=MappingProxyType(dict(content.get("norms") or {})),
            acting_for_allowed=settings.get("acting_for") == "allowed",
            require_signatures=bool(settings.get("require_signatures")),
            outbox_retention=str(settings.get("outbox_retention") or OUTBOX_RETENTION),
            path=path,
        )

    def title(self, language: str | None = None) -> str:
        """The office's name in `language`, else in its first language."""
        if language and language in self.name:
            return self.name[language]
        first = next((self.name[lang] for lang in self.languages if lang in self.name), None)
        return first or next(iter(self.name.values()), self.id)

    def person(self, typed: str) -> Person | None:
        """The person a typed name means (id, login, alias or full name), or None."""
        wanted = fold(typed)
        if wanted in self.people:
            return self.people[wanted]
        matches = [p for p in self.people.values() if wanted in p.names()]
        return matches[0] if len(matches) == 1 else None

    def members(self, role: str) -> list[Person]:
        """The people holding a role."""
        ids = (self.roles.get(role) or {}).get("members") or []
        return [self.people[i] for i in ids if i in self.people]

    def deputies(self, role: str) -> list[Person]:
        """The people who stand in for a role's members."""
        ids = (self.roles.get(role) or {}).get("deputies") or []
        return [self.people[i] for i in ids if i in self.people]

    def roles_of(self, person_id: str) -> list[str]:
        """The roles a person holds or stands in for."""
        return [
            role
            for role, definition in self.roles.items()
            if person_id in (definition.get("members") or [])
            or person_id in (definition.get("deputies") or [])
        ]

    def on_duty(self, role: str, at: datetime) -> Person | None:
        """Who holds a rotating duty role at `at` (aware), by its rotation; None if the role
        has no rotation or nobody is on duty then."""
        from crisiscomm.office.rotations import on_duty

        rotation = self.rotations.get(role)
        if rotation is None:
            return None
        person_id = on_duty(rotation, at, ZoneInfo(self.timezone))
        return self.people.get(person_id) if person_id else None
