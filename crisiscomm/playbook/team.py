"""A playbook's team, taken from the office it belongs to.

The office (`office.yaml` beside the playbooks) keeps the people and roles every playbook
shares. Laid over a merged playbook:

- the office's people come along under `people`: who may act, and how each is named;
- an office role the playbook does not define is added as the office wrote it;
- a playbook role with no `members` takes the office's members and deputies; one whose
  `members` (or `deputies`) are person ids narrows the role to those people;
- a member written out in full in the playbook (name, login, e-mail) still works, and is
  named in a finding suggesting the office instead;
- the office's channels are there for the playbook, unless it has one of the same name;
- so are the lists of the office's gazetteer (places with their names per language), which
  facts of `type: place` take their values from.

Every value keeps the file and line it came from, the office's included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisiscomm.documents.findings import Finding, Severity
from crisiscomm.documents.library import Library
from crisiscomm.documents.rules import register
from crisiscomm.documents.source import Location, MarkedDict, MarkedList, location_of
from crisiscomm.i18n import _

__all__ = ["resolve_with_office"]

register("unknown-person", "a playbook names a person the office does not have")
register(
    "inline-team",
    "a playbook writes out a role's people although the office has them",
    Severity.WARNING,
)

# what a playbook takes of each person; `keys`: the public keys that sign their clearance
PERSON_KEYS = ("name", "position", "language", "email", "phone", "telegram", "keys")


def resolve_with_office(
    path: Path, library: Library
) -> tuple[Any, list[Path], Path | None, list[Finding]]:
    """The merged playbook with its office's team, its `extends` chain, the office file
    (None without one), and what laying the team over it found."""
    from crisiscomm.office.find import office_for

    merged, chain = library.resolve(path)
    office_path = office_for(path)
    if office_path is None or not isinstance(merged, MarkedDict):
        return merged, chain, None, []
    office = library.load(office_path)
    if not isinstance(office, MarkedDict) or "crisiscomm-office" not in office:
        return merged, chain, None, []
    team = _Team(merged, office)
    return team.build(), chain, office_path, team.findings


def _copy(marked: MarkedDict) -> MarkedDict:
    """A shallow copy that keeps where each key and value was written."""
    result = MarkedDict(marked.location)
    for key, value in marked.items():
        result.put(
            key,
            value,
            key_location=marked.key_locations[key],
            value_location=marked.value_locations[key],
        )
    return result


class _Team:
    def __init__(self, book: MarkedDict, office: MarkedDict) -> None:
        self.book = book
        self.office = office
        self.people: dict[str, Any] = dict(office.get("people") or {})
        self.findings: list[Finding] = []

    def member(self, person_id: str, where: Location) -> Any:
        """A role member's mapping for a person id (the id itself if nobody has it)."""
        person = self.people.get(person_id)
        if not isinstance(person, MarkedDict):
            self.findings.append(
                Finding(
                    where,
                    "unknown-person",
                    _("no person `{id}` in the office").format(id=person_id),
                    hint=_("people: {ids}").format(ids=", ".join(sorted(self.people)) or "-"),
                )
            )
            return person_id
        member = MarkedDict(person.location)
        member.put("id", person_id, key_location=where, value_location=where)
        for key in PERSON_KEYS:
            if key in person:
                located = person.value_locations.get(key, person.location)
                member.put(key, person[key], key_location=located, value_location=located)
        names = [*(person.get("logins") or []), *(person.get("aliases") or [])]
        if person.get("logins"):
            member.put(
                "login", person["logins"][0], key_location=person.location, value_location=where
            )
        if names:
            member.put("aliases", list(names), key_location=where, value_location=where)
        return member

    def people_list(self, ids: Any, where: MarkedList | Location) -> MarkedList:
        location = where.location if isinstance(where, MarkedList) else where
        resolved = MarkedList(location)
        for index, entry in enumerate(ids):
            at = where.item_locations[index] if isinstance(where, MarkedList) else where
            resolved.append_marked(self.member(entry, at) if isinstance(entry, str) else entry, at)
        return resolved

    def role(self, name: str, role: MarkedDict | None, office_role: Any) -> MarkedDict:
        base = role if role is not None else office_role
        result = _copy(base)
        for key in ("members", "deputies"):
            given = role.get(key) if role is not None else None
            source = given if given is not None else (office_role or {}).get(key)
            if source is None:
                continue
            holder = role if given is not None and role is not None else office_role
            where = holder.value_locations.get(key, holder.location)
            if given is not None and any(isinstance(m, dict) for m in given):
                self.inline(name, key, where)
            listed = source if isinstance(source, MarkedList) else where
            result.put(
                key,
                self.people_list(source, listed),
                key_location=holder.key_locations.get(key, holder.location),
                value_location=where,
            )
        return result

    def inline(self, role: str, key: str, where: Location) -> None:
        self.findings.append(
            Finding(
                where,
                "inline-team",
                _("role `{role}` writes out its {key} here; the office has its people").format(
                    role=role, key=key
                ),
                Severity.WARNING,
                _(
                    "list person ids from office.yaml instead, or leave `{key}` out to take the "
                    "office's"
                ).format(key=key),
            )
        )

    def build(self) -> MarkedDict:
        book, office = self.book, self.office
        result = _copy(book)
        office_roles: dict[str, Any] = dict(office.get("roles") or {})
        book_roles: dict[str, Any] = dict(book.get("roles") or {})
        roles_at = book.value_locations.get("roles", office.value_locations.get("roles"))
        roles = MarkedDict(roles_at or book.location)
        for name in [*book_roles, *(n for n in office_roles if n not in book_roles)]:
            marks = book.get("roles") if name in book_roles else office.get("roles")
            assert isinstance(marks, MarkedDict)
            roles.put(
                name,
                self.role(name, book_roles.get(name), office_roles.get(name)),
                key_location=marks.key_locations[name],
                value_location=marks.value_locations[name],
            )
        result.put(
            "roles",
            roles,
            key_location=book.key_locations.get("roles", office.key_locations["roles"]),
            value_location=roles.location,
        )
        self.channels(result)
        self.gazetteer(result)
        result.put(
            "people",
            {
                person_id: self.member(
                    person_id, location_of(office, ["people", person_id]) or office.location
                )
                for person_id in self.people
            },
            key_location=office.key_locations["people"],
            value_location=office.value_locations["people"],
        )
        rotations = office.get("rotations")
        if isinstance(rotations, MarkedDict):  # who holds a duty role when: who is told
            result.put(
                "rotations",
                {"timezone": office["timezone"], "roles": rotations},
                key_location=office.key_locations["rotations"],
                value_location=office.value_locations["rotations"],
            )
        settings = office.get("settings") or {}
        result.put(
            "office",
            {
                "id": office["id"],
                "acting_for": settings.get("acting_for", "refused"),
                "require_signatures": bool(settings.get("require_signatures")),
            },
            key_location=office.location,
            value_location=office.location,
        )
        return result

    def gazetteer(self, result: MarkedDict) -> None:
        """The office's lists of places, beside the playbook's own (which win by name)."""
        office_lists = self.office.get("gazetteer")
        if not isinstance(office_lists, MarkedDict):
            return
        book_lists = self.book.get("gazetteer")
        merged = MarkedDict((book_lists or office_lists).location)
        for source in (office_lists, book_lists):
            if isinstance(source, MarkedDict):
                for name, places in source.items():
                    merged.put(
                        name,
                        places,
                        key_location=source.key_locations[name],
                        value_location=source.value_locations[name],
                    )
        where = self.book.key_locations.get("gazetteer", self.office.key_locations["gazetteer"])
        result.put("gazetteer", merged, key_location=where, value_location=merged.location)

    def channels(self, result: MarkedDict) -> None:
        office_channels = self.office.get("channels")
        if not isinstance(office_channels, MarkedDict):
            return
        book_channels = self.book.get("channels")
        merged = MarkedDict((book_channels or office_channels).location)
        for source in (office_channels, book_channels):
            if isinstance(source, MarkedDict):
                for name, channel in source.items():
                    merged.put(
                        name,
                        channel,
                        key_location=source.key_locations[name],
                        value_location=source.value_locations[name],
                    )
        where = self.book.key_locations.get("channels", self.office.key_locations["channels"])
        result.put("channels", merged, key_location=where, value_location=merged.location)
