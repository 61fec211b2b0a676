"""Statement and message templates: `string.Template` over a flat dict of strings.

Never `str.format` (it reads attributes: `{0.__class__}`); DESIGN.md invariant 7.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "BUILTIN_PLACEHOLDERS",
    "Placeholders",
    "missing_values",
    "placeholders",
    "render",
    "render_lenient",
]

# Values the engine fills in for every incident, besides the playbook's facts.
BUILTIN_PLACEHOLDERS = frozenset(
    {
        "incident_id",
        "incident_title",
        "playbook_title",
        "severity",
        "state",
        "state_title",
        "owner",
        "now",
        "opened_at",
        "deadline",
        "next_update_at",
    }
)


@dataclass(frozen=True)
class Placeholders:
    """The names a template uses, and the offsets of `$` signs that start no placeholder."""

    names: tuple[str, ...]
    invalid: tuple[int, ...]


@lru_cache(maxsize=256)
def placeholders(text: str) -> Placeholders:
    """The placeholders of a template, in order of appearance."""
    # cached: every draft scans the same few templates again, once per language and check;
    # the answer is immutable (tuples), so sharing it is safe
    names: list[str] = []
    invalid: list[int] = []
    for match in string.Template.pattern.finditer(text):
        name = match.group("named") or match.group("braced")
        if name:
            names.append(name)
        elif match.group("invalid") is not None:
            invalid.append(match.start("invalid"))
    return Placeholders(tuple(names), tuple(invalid))


def missing_values(text: str, values: Mapping[str, str]) -> list[str]:
    """The placeholders of `text` that `values` has no value for, in order."""
    return [name for name in dict.fromkeys(placeholders(text).names) if name not in values]


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill a template; every placeholder must have a value (check with missing_values)."""
    return string.Template(text).substitute(values)


def render_lenient(text: str, values: Mapping[str, str]) -> str:
    """Fill a notification template, leaving unknown placeholders as written.

    For operational messages only: a reminder at 3 a.m. with a visible `$region` beats
    no reminder. Public statements use `render`, which refuses missing values.
    """
    return string.Template(text).safe_substitute(values)
