"""Incident facts: `key=value` text from the command line, typed by the playbook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from crisiscomm.clock import format_utc, parse_utc
from crisiscomm.engine.timefmt import statement_time
from crisiscomm.errors import UsageError
from crisiscomm.i18n import _
from crisiscomm.playbook.model import Playbook

__all__ = ["fact_text", "parse_assignments", "parse_fact"]

FIRST_YEAR, LAST_YEAR = 1900, 2200
TRUE_WORDS = {"true", "yes", "y", "1", "ha", "ҳа", "да", "awa"}
FALSE_WORDS = {"false", "no", "n", "0", "yo'q", "yoʻq", "йўқ", "нет", "yaq", "joq"}


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


def parse_fact(playbook: Playbook, name: str, text: str) -> Any:
    """A fact's value from text, by its declared type; a value that does not fit is a
    usage error (exit 2), like any other bad argument."""
    facts = playbook.facts
    if name not in facts:
        raise UsageError(
            _("`{name}` is not a fact of playbook {playbook}").format(
                name=name, playbook=playbook.id
            ),
            hint=_("facts: {names}").format(names=", ".join(sorted(facts)) or "-"),
        )
    kind = facts[name].get("type", "string")
    example = _("e.g. {name}={example}").format(
        name=name, example=facts[name].get("example") or _example(kind, facts[name])
    )
    try:
        value = _typed(kind, text, facts[name], playbook.timezone)
    except ValueError:
        raise UsageError(
            _("fact `{name}` must be {kind}; `{text}` is not").format(
                name=name, kind=_describe(kind, facts[name]), text=text
            ),
            hint=example,
        ) from None
    low, high = facts[name].get("minimum"), facts[name].get("maximum")
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


def _typed(kind: str, text: str, definition: dict[str, Any], zone: str) -> Any:
    if kind in ("string", "text"):
        if not text:
            raise ValueError(text)
        return text
    if kind == "integer":
        return int(text)
    if kind == "number":
        value = float(text.replace(",", "."))
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        return value
    if kind == "boolean":
        lowered = text.casefold()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(text)
    if kind == "datetime":
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ValueError(text)  # a typo, and one that no time zone can show
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        return format_utc(moment.astimezone(UTC))
    if kind == "choice":
        if text not in (definition.get("choices") or []):
            raise ValueError(text)
        return text
    raise ValueError(kind)  # pragma: no cover - the schema allows no other type


def _describe(kind: str, definition: dict[str, Any]) -> str:
    if kind == "choice":
        return _("one of: {choices}").format(choices=", ".join(definition.get("choices") or []))
    return {
        "integer": _("a whole number"),
        "number": _("a number"),
        "boolean": _("yes or no"),
        "datetime": _("a date and time (2026-04-03 06:00)"),
    }.get(kind, _("non-empty text"))


def _example(kind: str, definition: dict[str, Any]) -> str:
    if kind == "choice":
        return str((definition.get("choices") or ["?"])[0])
    return {
        "integer": "120",
        "number": "3.5",
        "boolean": "yes",
        "datetime": "2026-04-03 06:00",
    }.get(kind, "...")


def fact_text(playbook: Playbook, name: str, value: Any) -> str:
    """A fact's value as it appears in a statement."""
    kind = playbook.facts.get(name, {}).get("type", "string")
    if kind == "datetime" and isinstance(value, str):
        return statement_time(parse_utc(value), playbook.timezone)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
