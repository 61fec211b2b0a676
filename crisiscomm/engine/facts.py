"""Incident facts: `key=value` text from the command line, typed by the playbook, and
their values as each language's statement writes them.

What officers type is read by `crisiscomm.formats`: `12.04.2027 17:40`, `17:40`, `4,12`,
`1 200`, `да`, `yoʻq`. A fact is kept as one value (a number, a boolean, a UTC time, the
id of a place) and written per language when a text is rendered: `4,12` in Russian,
`awa` in Karakalpak, `Кунград` for the place `qongirat`. Text facts may also be given per
language (`area.ru=...`), kept as a mapping of language to text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.errors import UsageError
from crisiscomm.formats import (
    InvalidInput,
    boolean_text,
    datetime_text,
    decimal_text,
    integer_text,
    name_key,
    parse_boolean,
    parse_datetime,
    parse_decimal,
    parse_integer,
)
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook

__all__ = [
    "fact_display",
    "fact_text",
    "fact_values",
    "parse_assignments",
    "parse_fact",
    "place_names",
]

# facts whose value may differ by language (`area.ru=...`); the others are one value
TEXT_KINDS = ("string", "text")


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["region=Nukus", "people=120"]` as a dict; a malformed pair is a usage error."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(
                _("`{pair}` is not key=value").format(pair=pair),
                hint=_("write it as name=value, e.g. --fact region=Nukus"),
            )
        values[key] = value.strip()
    return values


def _definition(playbook: Playbook, name: str) -> Mapping[str, Any]:
    """A fact's definition; an unknown name is a usage error."""
    facts = playbook.facts
    if name not in facts:
        raise UsageError(
            _("`{name}` is not a fact of playbook {playbook}").format(
                name=name, playbook=playbook.id
            ),
            hint=_("facts: {names}").format(names=", ".join(sorted(facts)) or "-"),
        )
    return facts[name]


def parse_fact(playbook: Playbook, name: str, text: str, *, now: datetime | None = None) -> Any:
    """A fact's value from text, by its declared type; a value that does not fit is a
    usage error (exit 2), like any other bad argument.

    `name.lang` (`area.ru`) is the text of a string fact in one language. `now` places a
    time typed alone (`17:40`) on its day.
    """
    base, dot, language = name.partition(".")
    definition = _definition(playbook, base)
    kind = definition.get("type", "string")
    if dot:
        _check_language(playbook, base, kind, language)
    example = _("e.g. {name}={example}").format(
        name=name, example=definition.get("example") or _example(kind, definition, playbook)
    )
    try:
        value = _typed(kind, text, definition, playbook, now)
    except InvalidInput as error:
        described = _describe(kind, definition)
        message = (
            _("fact `{name}` must be {kind}; `{text}` is not: {reason}").format(
                name=name, kind=described, text=text, reason=error
            )
            if str(error)
            else _("fact `{name}` must be {kind}; `{text}` is not").format(
                name=name, kind=described, text=text
            )
        )
        hint = _place_hint(playbook, definition, text) if kind == "place" else example
        raise UsageError(message, hint=hint) from None
    low, high = definition.get("minimum"), definition.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = [
            *([_("at least {n:g}").format(n=low)] if low is not None else []),
            *([_("at most {n:g}").format(n=high)] if high is not None else []),
        ]
        raise UsageError(
            _("fact `{name}` must be {bounds}; `{text}` is not").format(
                name=name, bounds=_(" and ").join(bounds), text=text
            ),
            hint=example,
        )
    return value


def _check_language(playbook: Playbook, name: str, kind: str, language: str) -> None:
    if kind not in TEXT_KINDS:
        raise UsageError(
            _("fact `{name}` has one value in every language").format(name=name),
            hint=_("give it without a language: {name}=...").format(name=name),
        )
    if language not in playbook.languages:
        raise UsageError(
            _("`{lang}` is not a language of playbook {playbook}").format(
                lang=language, playbook=playbook.id
            ),
            hint=_("languages: {langs}").format(langs=", ".join(playbook.languages) or "-"),
        )


def fact_values(
    playbook: Playbook,
    assignments: Mapping[str, str],
    current: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The facts that `name=value` and `name.lang=value` assignments give, by name.

    A text in one language joins the fact's texts in the others (a value given for every
    language counts as each language's); a plain value replaces them all.
    """
    values: dict[str, Any] = {}
    for key, text in assignments.items():
        value = parse_fact(playbook, key, text, now=now)
        name, dot, language = key.partition(".")
        if not dot:
            values[name] = value
            continue
        before = values.get(name, current.get(name))
        if isinstance(before, dict):
            texts = dict(before)
        elif before is None:
            texts = {}
        else:
            texts = {code: str(before) for code in playbook.languages}
        texts[language] = value
        values[name] = texts
    return values


def _typed(
    kind: str,
    text: str,
    definition: Mapping[str, Any],
    playbook: Playbook,
    now: datetime | None,
) -> Any:
    if kind in TEXT_KINDS:
        if not text:
            raise InvalidInput("")
        return text
    if kind == "integer":
        return parse_integer(text)
    if kind == "number":
        return parse_decimal(text)
    if kind == "boolean":
        return parse_boolean(text, definition.get("words"))
    if kind == "datetime":
        moment = parse_datetime(text, playbook.timezone, now)
        return format_utc(moment.astimezone(UTC))
    if kind == "choice":
        choices = [str(choice) for choice in definition.get("choices") or []]
        if text in choices:
            return text
        matching = [choice for choice in choices if name_key(choice) == name_key(text)]
        if len(matching) == 1:
            return matching[0]
        raise InvalidInput("")
    if kind == "place":
        return _place(playbook, str(definition["gazetteer"]), text)
    raise InvalidInput("")  # pragma: no cover - the schema allows no other type


def _place(playbook: Playbook, gazetteer: str, text: str) -> str:
    """The id of the place `text` names: its id, or a name or alias in any language."""
    found = list(_places_by_key(playbook, gazetteer).get(name_key(text), ()))
    if len(found) == 1:
        return found[0]
    if found:  # office-gazetteer refuses two places with a name in common
        raise InvalidInput(_("it names {ids}").format(ids=", ".join(found)))
    raise InvalidInput("")


# (playbook content hash, gazetteer) -> each name key -> the places it names, in list order
_PLACE_INDEX: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}


def _places_by_key(playbook: Playbook, gazetteer: str) -> dict[str, tuple[str, ...]]:
    """The places of a gazetteer by every key they are known by, built once per pinned
    playbook: folding each place's names and aliases costs more than the rest of a fact."""
    cache_key = (playbook.content_hash, gazetteer)
    index = _PLACE_INDEX.get(cache_key)
    if index is None:
        places = playbook.gazetteer.get(gazetteer) or {}
        found: dict[str, list[str]] = {}
        for place in places:
            for key in _place_keys(place, places[place]):
                found.setdefault(key, []).append(place)
        index = _PLACE_INDEX[cache_key] = {key: tuple(ids) for key, ids in found.items()}
    return index


def _place_keys(place: str, names: Mapping[str, Any]) -> set[str]:
    aliases = [str(alias) for alias in names.get("aliases") or []]
    labels = [str(label) for code, label in names.items() if code != "aliases"]
    return {name_key(n) for n in (place, *labels, *aliases)}


def _place_hint(playbook: Playbook, definition: Mapping[str, Any], text: str) -> str:
    """The places a mistyped one may have meant, else the whole list."""
    gazetteer = str(definition["gazetteer"])
    places = playbook.gazetteer.get(gazetteer) or {}
    keys = {key: place for place in places for key in _place_keys(place, places[place])}
    import difflib  # only here: a mistyped place, not every command reading facts, needs it

    close = difflib.get_close_matches(name_key(text), list(keys), n=3, cutoff=0.7)
    meant = list(dict.fromkeys(keys[key] for key in close))
    if meant:
        return _("did you mean {places}?").format(
            places=_(" or ").join(
                f"{place} ({place_names(playbook, gazetteer, place)})" for place in meant
            )
        )
    return _("{list}: {ids}").format(list=gazetteer, ids=", ".join(places) or "-")


def place_names(playbook: Playbook, gazetteer: str, place: str) -> str:
    """A place's names in the playbook's languages: `Qońırat, Qoʻngʻirot, Кунград, Kungrad`."""
    names = (playbook.gazetteer.get(gazetteer) or {}).get(place) or {}
    shown = [str(names[code]) for code in playbook.languages if names.get(code)]
    return ", ".join(dict.fromkeys(shown)) or place


def _describe(kind: str, definition: Mapping[str, Any]) -> str:
    if kind == "choice":
        return _("one of: {choices}").format(choices=", ".join(definition.get("choices") or []))
    if kind == "place":
        return _("a place of the list `{list}`").format(list=definition.get("gazetteer"))
    return {
        "integer": _("a whole number"),
        "number": _("a number"),
        "boolean": _("yes or no"),
        "datetime": _("a date and time (12.04.2027 17:40)"),
    }.get(kind, _("non-empty text"))


def _example(kind: str, definition: Mapping[str, Any], playbook: Playbook) -> str:
    if kind == "choice":
        return str((definition.get("choices") or ["?"])[0])
    if kind == "place":
        return next(iter(playbook.gazetteer.get(str(definition.get("gazetteer"))) or {}), "?")
    return {
        "integer": "120",
        "number": "4,12",
        "boolean": "yes",
        "datetime": "12.04.2027 17:40",
    }.get(kind, "...")


def fact_text(playbook: Playbook, name: str, value: Any, language: str) -> str | None:
    """A fact's value as the statement in `language` writes it; None where it has no value
    in that language (a text given for other languages only, a place without a name in
    it, a boolean of a language with no words for yes and no)."""
    definition = playbook.facts.get(name) or {}
    kind = definition.get("type", "string")
    if isinstance(value, dict):  # a text per language
        text = value.get(language)
        return str(text) if text else None
    if kind == "place":
        names = (playbook.gazetteer.get(str(definition.get("gazetteer"))) or {}).get(value)
        if names is None:
            return str(value)  # not in the pinned gazetteer: as recorded
        label = names.get(language)
        return str(label) if label else None
    if kind == "datetime" and isinstance(value, str):
        return datetime_text(parse_utc(value), language, playbook.timezone)
    if isinstance(value, bool):
        return boolean_text(value, language, definition.get("words"))
    if isinstance(value, int):
        return integer_text(value, language)
    if isinstance(value, float):
        return decimal_text(value, language)
    return str(value)


def fact_display(playbook: Playbook, name: str, value: Any, language: str) -> str:
    """A fact's value for an officer's screen in `language`: as a statement in that
    language writes it, else per language (`kaa: Qaraqum · ru: Каракум`)."""
    text = fact_text(playbook, name, value, language)
    if text is not None:
        return text
    shown = {
        code: fact_text(playbook, name, value, code)
        for code in [*playbook.languages, *(value if isinstance(value, dict) else [])]
    }
    return " · ".join(f"{code}: {text}" for code, text in shown.items() if text) or str(value)
