"""`extends`: a playbook on top of the protocol it builds on.

Merge rules (docs/playbook-format.md shows examples):

- mappings merge key by key, recursively; the extending file wins;
- a key set to `null` (`~`) removes the inherited key;
- lists replace the inherited list, except lists whose entries have an identity:
  `transitions` (matched by `trigger` and `from`) and `checklist` items (matched by `id`).
  A matching entry is merged, a new entry is appended, and `remove: true` drops the
  inherited entry;
- `id`, `kind`, `title`, `description` and `extends` belong to each file and are not
  inherited.

Every merged value keeps the location of the file and line that contributed it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from crisiscomm.playbook.source import MarkedDict, MarkedList

__all__ = ["NOT_INHERITED", "merge"]

NOT_INHERITED = frozenset({"id", "kind", "title", "description", "extends"})


def _transition_identity(entry: Any) -> Hashable:
    source = entry.get("from")
    sources = tuple(sorted(source)) if isinstance(source, list) else (source,)
    return (entry.get("trigger"), sources)


def _checklist_identity(entry: Any) -> Hashable:
    return entry.get("id")


IDENTITY: dict[str, Callable[[Any], Hashable]] = {
    "transitions": _transition_identity,
    "checklist": _checklist_identity,
}


def merge(base: Any, override: Any, *, top: bool = True) -> Any:
    """The result of `override` extending `base`; neither input is changed."""
    if not (isinstance(base, MarkedDict) and isinstance(override, MarkedDict)):
        return override
    merged = MarkedDict(override.location)
    for key, value in base.items():
        if top and key in NOT_INHERITED:
            continue
        if key in override:
            continue
        merged.put(
            key,
            value,
            key_location=base.key_locations[key],
            value_location=base.value_locations[key],
        )
    for key, value in override.items():
        if value is None and key in base:
            continue  # `key: ~` removes what the base defined
        inherited = base.get(key)
        identity = IDENTITY.get(key)
        if identity and isinstance(inherited, MarkedList) and isinstance(value, MarkedList):
            combined: Any = _merge_entries(inherited, value, identity)
        elif isinstance(inherited, MarkedDict) and isinstance(value, MarkedDict):
            combined = merge(inherited, value, top=False)
        else:
            combined = value
        merged.put(
            key,
            combined,
            key_location=override.key_locations[key],
            value_location=override.value_locations[key],
        )
    return merged


def _merge_entries(
    base: MarkedList, override: MarkedList, identity: Callable[[Any], Hashable]
) -> MarkedList:
    entries: dict[Hashable, tuple[Any, Any]] = {}
    order: list[Hashable] = []
    unnamed = 0
    for source in (base, override):
        for entry, location in zip(source, source.item_locations, strict=True):
            if isinstance(entry, MarkedDict):
                key = identity(entry)
            else:  # leave malformed entries for the schema to report
                key, unnamed = ("<unnamed>", unnamed), unnamed + 1
            if key in entries and source is override:
                inherited, _location = entries[key]
                entries[key] = (merge(inherited, entry, top=False), location)
            else:
                if key not in entries:
                    order.append(key)
                entries[key] = (entry, location)
    result = MarkedList(override.location)
    for key in order:
        entry, location = entries[key]
        if isinstance(entry, MarkedDict) and entry.get("remove") is True:
            continue
        result.append_marked(entry, location)
    return result
