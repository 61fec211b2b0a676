"""The compiled playbook: merged, checked, immutable and content-hashed.

An incident pins one (by `content_hash`); the engine reads states, transitions, roles and
statements from here. Building one from a YAML file is `crisiscomm.playbook.compile`;
rebuilding the pinned one from the store is `Playbook.from_json`, which needs neither YAML
nor the schema.

Texts a playbook shows officers (state titles, checklist items, role titles ...) are one
string or one per language code; `localized` picks the one for the interface language. The
record keeps ids only, so a change of language changes what is shown, never what is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from crisiscomm.durations import parse_duration
from crisiscomm.i18n import language as interface_language

__all__ = ["Playbook", "canonical_json", "localized"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NOBODY: frozenset[int] = frozenset()


def _fold(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _names(member: Mapping[str, Any]) -> set[str]:
    """Every folded name a member is known by."""
    names = [
        member.get("id"),
        member.get("login"),
        member.get("name"),
        *(member.get("aliases") or []),
    ]
    return {_fold(str(n)) for n in names if n}


def localized(value: Any, language: str | None = None, *, default: str = "") -> str:
    """A text given as one string or one per language (`{en: ..., ru: ...}`), in `language`
    (default: the interface language now in use), else in English, else the first given."""
    if isinstance(value, Mapping):
        wanted = language or interface_language()
        for code in (wanted, "en"):
            if value.get(code):
                return str(value[code])
        return next((str(text) for text in value.values() if text), default)
    return default if value is None or value == "" else str(value)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same content always gives the same text."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False
    )  # no cycle check: JSON-shaped data has none, and the check costs a fifth of the time


@dataclass(frozen=True)
class Playbook:
    """A playbook merged over its protocols; `content_hash` pins exactly this content.

    The accessors return views into the content: read them, never change them.
    """

    id: str
    content: MappingProxyType[str, Any]
    content_hash: str
    files: tuple[str, ...] = ()

    @classmethod
    def from_content(cls, content: dict[str, Any], *, files: tuple[str, ...] = ()) -> Playbook:
        """A playbook from its merged content (plain dicts and lists)."""
        text = canonical_json(content)
        playbook = cls(
            id=content["id"],
            content=MappingProxyType(content),
            content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            files=files,
        )
        # the text just hashed is what every incident opened from it pins: keep it rather
        # than serialise the whole playbook again per opening (~1 ms each)
        playbook.__dict__["_canonical_text"] = text
        return playbook

    @classmethod
    def from_json(cls, text: str) -> Playbook:
        """The playbook an incident pinned, from the store's canonical JSON."""
        return cls.from_content(json.loads(text))

    def canonical_json(self) -> str:
        """The content as canonical JSON, the input of `content_hash`."""
        return self._canonical_text

    @cached_property
    def _canonical_text(self) -> str:
        return canonical_json(dict(self.content))

    # -- reading the content -----------------------------------------------------------

    @property
    def title(self) -> str:
        """The playbook's human name, in the interface language."""
        return localized(self.content.get("title"), default=self.id)

    def text(self, value: Any, language: str | None = None, *, default: str = "") -> str:
        """A text of the playbook (one string or one per language), in `language` (default:
        the interface language)."""
        return localized(value, language, default=default)

    @property
    def states(self) -> Mapping[str, Any]:
        """The states by name."""
        return self.content.get("states") or _EMPTY

    @property
    def transitions(self) -> list[dict[str, Any]]:
        """The transitions, in order."""
        return list(self.content.get("transitions") or [])

    @property
    def initial(self) -> str:
        """The state a new incident starts in."""
        return str(self.content["initial"])

    @property
    def timezone(self) -> str:
        """The IANA zone times are shown in."""
        return str(self.content.get("timezone") or "UTC")

    @property
    def languages(self) -> list[str]:
        """The languages every public statement must exist in."""
        return list(self.content.get("languages") or [])

    @property
    def facts(self) -> Mapping[str, Any]:
        """The incident's typed fields by name."""
        return self.content.get("facts") or _EMPTY

    @property
    def gazetteer(self) -> Mapping[str, Any]:
        """Places by list, then by id, each with its name per language (the office's)."""
        return self.content.get("gazetteer") or _EMPTY

    @property
    def roles(self) -> Mapping[str, Any]:
        """The roles by name."""
        return self.content.get("roles") or _EMPTY

    @property
    def channels(self) -> Mapping[str, Any]:
        """The notification channels by name."""
        return self.content.get("channels") or _EMPTY

    @property
    def statements(self) -> Mapping[str, Any]:
        """The statement templates by id."""
        return self.content.get("statements") or _EMPTY

    @property
    def severities(self) -> dict[str, Any]:
        """The severity levels by name."""
        return dict(self.content.get("severities") or {"medium": {"scale": 1}})

    @property
    def default_severity(self) -> str:
        """The severity used when none is given."""
        default = self.content.get("default_severity")
        return str(default) if default else next(iter(self.severities))

    def state(self, name: str) -> Mapping[str, Any]:
        """One state's definition."""
        return self.states[name]

    def state_title(self, name: str, language: str | None = None) -> str:
        """A state's human name, in `language` (default: the interface language)."""
        return localized((self.states.get(name) or {}).get("title"), language, default=name)

    def role_title(self, role: str, language: str | None = None) -> str:
        """A role's human name, in `language` (default: the interface language)."""
        return localized((self.roles.get(role) or {}).get("title"), language, default=role)

    def statement_title(self, statement: str, language: str | None = None) -> str:
        """A statement's human name, in `language` (default: the interface language)."""
        definition = self.statements.get(statement) or {}
        return localized(definition.get("title"), language, default=statement)

    def checklist(self, state: str, language: str | None = None) -> list[tuple[str, str, bool]]:
        """A state's checklist as (id, text in `language`, required), in order."""
        return [
            (
                str(item["id"]),
                localized(item.get("text"), language, default=str(item["id"])),
                item.get("required", True) is not False,
            )
            for item in (self.states.get(state) or {}).get("checklist") or []
        ]

    def is_final(self, name: str) -> bool:
        """Whether incidents in this state are closed."""
        return self.states.get(name, {}).get("final") is True

    def scale(self, severity: str) -> float:
        """How a severity scales deadlines and escalation times."""
        return float(self.severities.get(severity, {}).get("scale", 1))

    def scaled(self, duration: str, severity: str) -> timedelta:
        """A duration from the playbook, scaled by severity."""
        # every state entry and clearance step asks for the same few (duration, severity)
        # pairs; the playbook is immutable, so each is worked out once
        key = (duration, severity)
        scaled = self._scaled.get(key)
        if scaled is None:
            scaled = self._scaled[key] = parse_duration(duration) * self.scale(severity)
        return scaled

    @cached_property
    def _scaled(self) -> dict[tuple[str, str], timedelta]:
        return {}

    def sources(self, transition: dict[str, Any]) -> list[str]:
        """The source states of a transition, `*` expanded to every non-final state."""
        raw = transition["from"]
        names = raw if isinstance(raw, list) else [raw]
        if "*" in names:
            return [name for name in self.states if not self.is_final(name)]
        return list(names)

    def transitions_from(self, state: str) -> list[dict[str, Any]]:
        """The transitions an officer may fire from a state."""
        found = self._transitions_by_state.get(state)
        if found is None:  # not a state of this playbook: asked the long way, as before
            return [t for t in self.transitions if "to" in t and state in self.sources(t)]
        return list(found)

    @cached_property
    def _transitions_by_state(self) -> dict[str, tuple[dict[str, Any], ...]]:
        """The transitions from each state, in playbook order: every command asks, and
        `*` sources are expanded over all states to answer."""
        return {
            state: tuple(t for t in self.transitions if "to" in t and state in self.sources(t))
            for state in self.states
        }

    def members(self, role: str) -> list[dict[str, Any]]:
        """The people holding a role (members, then deputies)."""
        definition = self.roles.get(role) or {}
        return [*(definition.get("members") or []), *(definition.get("deputies") or [])]

    # -- people: from the office (office.yaml), else the playbook's own members ----------

    @property
    def people(self) -> Mapping[str, Any]:
        """The office's people by id; empty for a playbook without an office."""
        return self.content.get("people") or _EMPTY

    @property
    def office_id(self) -> str:
        """The id of the office the team came from ("" without one)."""
        return str((self.content.get("office") or {}).get("id") or "")

    @property
    def acting_for_allowed(self) -> bool:
        """Whether the office lets one person enter acts for another (`--as`)."""
        return (self.content.get("office") or {}).get("acting_for") == "allowed"

    def person_id(self, typed: str) -> str | None:
        """The office person a typed name means (id, login, alias or full name, ignoring
        case and spaces), or None."""
        wanted = _fold(typed)
        if wanted in self.people:
            return wanted
        return self._person_index.get(wanted)

    @cached_property
    def _person_index(self) -> dict[str, str | None]:
        """Every folded name of the office's people -> their id (None where two share it)."""
        index: dict[str, str | None] = {}
        for pid, person in self.people.items():
            for name in _names(person):
                index[name] = pid if index.get(name, pid) == pid else None
        return index

    @cached_property
    def _role_names(self) -> dict[str, frozenset[str]]:
        """Per role, every folded name its members and deputies are known by."""
        return {
            role: frozenset(
                name for m in self.members(role) if isinstance(m, dict) for name in _names(m)
            )
            for role in self.roles
        }

    @cached_property
    def _people_names(self) -> list[frozenset[str]]:
        """The folded names of each member of any role and each person, one set each."""
        members = [m for role in self.roles for m in self.members(role)]
        return [
            frozenset(_names(m)) for m in [*members, *self.people.values()] if isinstance(m, dict)
        ]

    def display_name(self, actor: str) -> str:
        """How the record shows an actor: the person's full name if the office knows them."""
        person = self.people.get(actor)
        return str(person["name"]) if person else actor

    def told(self, role: str, at: datetime | None) -> list[dict[str, Any]]:
        """Who a notice to `role` reaches at `at`: the person on duty where the office has a
        rotation for the role (its deputies when nobody is), else every member and deputy."""
        rotations = self.content.get("rotations") or {}
        rotation = (rotations.get("roles") or {}).get(role)
        if rotation is None or at is None:
            return self.members(role)
        from crisiscomm.office.rotations import on_duty

        person = on_duty(rotation, at, ZoneInfo(str(rotations.get("timezone") or "UTC")))
        held = [m for m in self.members(role) if isinstance(m, dict) and m.get("id") == person]
        if held:
            return held[:1]
        deputies = (self.roles.get(role) or {}).get("deputies") or []
        return list(deputies) or self.members(role)

    def roles_of(self, actor: str) -> set[str]:
        """The roles whose members (or deputies) include `actor` (by id, login, alias or
        name, case-insensitive)."""
        return set(self._roles_of(actor))

    def _roles_of(self, actor: str) -> frozenset[str]:
        # asked on every command (may_act_for); an office has a few dozen people
        roles = self._roles_by_actor.get(actor)
        if roles is None:
            wanted = _fold(actor)
            roles = frozenset(role for role, names in self._role_names.items() if wanted in names)
            self._roles_by_actor[actor] = roles
        return roles

    @cached_property
    def _roles_by_actor(self) -> dict[str, frozenset[str]]:
        return {}

    def may_act_for(self, actor: str, role: str) -> bool:
        """Members act for their role; a role the playbook lists no people for is open to all."""
        return role in self._roles_of(actor) or role not in self._staffed_roles

    @cached_property
    def _staffed_roles(self) -> frozenset[str]:
        """The roles with at least one member or deputy."""
        return frozenset(role for role in self.roles if self.members(role))

    def same_person(self, first: str, second: str) -> bool:
        """Whether two actor names are one person: equal ignoring case, or names of the same
        member (one by login, the other by full name, id or alias)."""
        a, b = _fold(first), _fold(second)
        if a == b:
            return True
        holders = self._holders_of_name
        return not holders.get(a, _NOBODY).isdisjoint(holders.get(b, _NOBODY))

    @cached_property
    def _holders_of_name(self) -> dict[str, frozenset[int]]:
        """Each folded name -> which of `_people_names` have it: four-eyes asks on every
        approval and release, and a scan of the whole office per question added up."""
        holders: dict[str, set[int]] = {}
        for index, names in enumerate(self._people_names):
            for name in names:
                holders.setdefault(name, set()).add(index)
        return {name: frozenset(indices) for name, indices in holders.items()}
