"""Statement and message templates: `string.Template` over a flat dict of strings.

Never `str.format` (it reads attributes: `{0.__class__}`); DESIGN.md invariant 7.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

__all__ = ["BUILTIN_PLACEHOLDERS", "Placeholders", "placeholders"]

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


def placeholders(text: str) -> Placeholders:
    """The placeholders of a template, in order of appearance."""
    names: list[str] = []
    invalid: list[int] = []
    for match in string.Template.pattern.finditer(text):
        name = match.group("named") or match.group("braced")
        if name:
            names.append(name)
        elif match.group("invalid") is not None:
            invalid.append(match.start("invalid"))
    return Placeholders(tuple(names), tuple(invalid))
