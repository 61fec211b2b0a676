"""What every step reads of an incident: its data to change, its template values, its
cadence, and whether it is closed.

The floor under the incident and statement steps (incident.py, statements.py, timers.py):
it imports neither of them, so they can both build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from crisiscomm.engine.timefmt import statement_time
from crisiscomm.errors import RefusedError
from crisiscomm.i18n import _
from crisiscomm.i18n import language as interface_language
from crisiscomm.playbook.model import Playbook
from crisiscomm.store.rows import IncidentRow

__all__ = [
    "EXERCISE_CONTROL",
    "SYSTEM_ACTOR",
    "TemplateValues",
    "cadence_interval",
    "copy_one_level_down",
    "next_update_at",
    "own_data",
    "possible_triggers",
    "refuse_if_closed",
    "template_values",
]

# the name the record gives crisiscomm's own acts (reminders, escalations); no person's
SYSTEM_ACTOR = "crisiscomm"
# who records a drill's injects (their facts and texts); no person's either
EXERCISE_CONTROL = "exercise-control"


def own_data(incident: IncidentRow) -> dict[str, Any]:
    """A private copy of the incident's data for a step to change.

    Copied two levels deep: a step sets facts, checklist entries of a state, approvals and
    acknowledgements (`data[key][name] = ...`, `data[key][name].append(...)`) and never
    changes anything deeper in place; it replaces it (test_engine checks that no step
    changes the incident as read). Statement records (most of the data: texts in every
    language) are shared read-only; a step changes one only through
    `statements.own_record`, which copies that record.
    """
    data: dict[str, Any] = {
        key: copy_one_level_down(value)
        for key, value in incident.data.items()
        if key != "statements"
    }
    data["statements"] = dict(incident.data.get("statements") or {})
    data.setdefault("facts", {})
    data.setdefault("checklist", {})
    data.setdefault("statements", {})
    data.setdefault("approvals", {})
    data.setdefault("acks", {"generation": incident.generation, "by": []})
    return data


# a tuple, not `dict | list`: that builds a union object on every test, and every step
# copies a few hundred values
_CONTAINERS = (dict, list)


def copy_one_level_down(value: Any) -> Any:
    """A copy of a dict or list whose dicts and lists are copied too (not deeper)."""
    if isinstance(value, dict):
        return {k: v.copy() if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [v.copy() if isinstance(v, _CONTAINERS) else v for v in value]
    return value


def refuse_if_closed(playbook: Playbook, incident: IncidentRow) -> None:
    """Refuse any step on a closed incident (its record stays as it was closed)."""
    if incident.closed_at is not None or playbook.is_final(incident.state):
        raise RefusedError(
            _("incident {id} is closed ({state})").format(
                id=incident.id, state=playbook.state_title(incident.state)
            ),
            hint=_("closed incidents keep their record; open a new one if the crisis returns"),
        )


def possible_triggers(playbook: Playbook, state: str) -> list[str]:
    """Triggers defined from a state, in playbook order."""
    return list(dict.fromkeys(t["trigger"] for t in playbook.transitions_from(state)))


def cadence_interval(playbook: Playbook, state: str) -> Any:
    """The follow-up rhythm of a state as a timedelta, or None."""
    cadence = playbook.states.get(state, {}).get("cadence")
    if isinstance(cadence, dict):
        return _duration(cadence["every"])
    if isinstance(cadence, str):
        return _duration(cadence)
    return None


@lru_cache(maxsize=256)
def _duration(text: str) -> timedelta:
    """A playbook's duration, parsed once: every state entry, release and rendered
    `$next_update_at` asks for the same few cadences (a bad one raises, and is not kept)."""
    from crisiscomm.durations import parse_duration

    return parse_duration(text)


class TemplateValues(Mapping[str, str]):
    """The values `$placeholders` may use, as text: built-ins and the facts that have one.

    Each is worked out when a template asks for it (a deadline notice uses two or three of
    them; `serve` builds one per firing). A fact shadows a built-in of the same name.

    Values are written in one language: a statement's (`language`: `awa` and `4,12` in its
    Karakalpak text, `да` and `4,12` in its Russian one, times spelled out as that language
    dates its statements, each place by its own name) or, without one, the interface
    language of a notification, whose times stay short (`03.04.2026 06:20`) and whose
    facts fall back to another language's value rather than none.
    """

    def __init__(
        self,
        playbook: Playbook,
        incident: IncidentRow,
        now: datetime,
        language: str | None = None,
    ) -> None:
        self.playbook, self.incident, self.now = playbook, incident, now
        self.statement = language is not None
        self.language = language if language is not None else interface_language()
        self.facts: dict[str, Any] = incident.data.get("facts") or {}
        self.known: dict[str, str] = {}
        state, lang = incident.state, self.language
        builtins: dict[str, Callable[[], str | None]] = {
            "incident_id": lambda: incident.id,
            "incident_title": lambda: incident.title,
            "playbook_title": lambda: playbook.text(
                playbook.content.get("title"), lang, default=playbook.id
            ),
            "severity": lambda: incident.severity,
            "state": lambda: state,
            "state_title": lambda: playbook.state_title(state, lang),
            "owner": lambda: _owner_text(playbook, state, lang),
            "now": lambda: self._time(now),
            "opened_at": lambda: self._time(incident.opened_at),
            "deadline": self._deadline,  # the state's, if it has one
            "next_update_at": self._next_update,  # if the playbook has a cadence
        }
        self.builtins = builtins

    def _time(self, moment: datetime) -> str:
        if self.statement:
            from crisiscomm.formats import datetime_text

            return datetime_text(moment, self.language, self.playbook.timezone)
        return statement_time(moment, self.playbook.timezone)

    def _deadline(self) -> str | None:
        incident, playbook = self.incident, self.playbook
        deadline = playbook.states.get(incident.state, {}).get("deadline")
        if deadline is None:
            return None
        return self._time(incident.state_entered_at + playbook.scaled(deadline, incident.severity))

    def _next_update(self) -> str | None:
        due = next_update_at(self.playbook, self.incident, self.now)
        return self._time(due) if due is not None else None

    def _fact(self, name: str) -> str | None:
        from crisiscomm.engine.facts import fact_text

        value = self.facts[name]
        languages = [self.language]
        if not self.statement:  # a notice: another language's value beats none
            languages += [*self.playbook.languages, "en"]
        for language in languages:
            text = fact_text(self.playbook, name, value, language)
            if text is not None:
                return text
        return None

    def __getitem__(self, name: str) -> str:
        if name not in self.known:
            if name in self.facts:
                value = self._fact(name)
            else:
                value = self.builtins[name]() if name in self.builtins else None
            if value is None:
                raise KeyError(name)
            self.known[name] = value
        return self.known[name]

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in dict.fromkeys([*self.builtins, *self.facts]) if name in self])

    def __len__(self) -> int:
        return len(list(iter(self)))


def template_values(
    playbook: Playbook, incident: IncidentRow, now: datetime, language: str | None = None
) -> TemplateValues:
    """The values `$placeholders` may use (`TemplateValues`), for `incident` at `now`: as
    the statement in `language` writes them, or for a notification in the interface
    language."""
    return TemplateValues(playbook, incident, now, language)


def next_update_at(playbook: Playbook, incident: IncidentRow, now: datetime) -> datetime | None:
    """When the next public update is promised: now plus the follow-up cadence.

    The current state's cadence if it has one, else the playbook's first cadence (the
    rhythm a holding statement promises for the follow-up phase).
    """
    every = cadence_interval(playbook, incident.state)
    if every is None:
        for name in playbook.states:
            every = cadence_interval(playbook, name)
            if every is not None:
                break
    return now + every if every is not None else None


def _owner_text(playbook: Playbook, state: str, language: str | None = None) -> str:
    role = playbook.states.get(state, {}).get("owner")
    if not role:
        return "-"
    return playbook.role_title(role, language)
