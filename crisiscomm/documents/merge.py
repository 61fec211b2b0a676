"""`extends`: a playbook on top of the protocol it builds on.

Merge rules (docs/playbook-format.md shows examples):

- mappings merge key by key, recursively; the extending file wins; keys keep the base's
  order, and keys new in the extending file follow in its order;
- a key set to `null` (`~`) removes the inherited key;
- lists replace the inherited list, except the two lists whose entries have an identity:
  top-level `transitions` (matched by `trigger` and `from`) and each state's `checklist`
  (matched by `id`). A matching entry is merged, a new entry is appended, and
  `remove: true` drops the inherited entry (one that matches nothing stays, for the
  `remove-unmatched` lint rule to report);
- `id`, `kind`, `title`, `description` and `extends` belong to each file and are not
  inherited.

Every merged value keeps the location of the file and line that contributed it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from crisiscomm.documents.source import MarkedDict, MarkedList

__all__ = ["NOT_INHERITED", "merge"]

NOT_INHERITED = frozenset({"id", "kind", "title", "description", "extends"})


def _name(value: Any) -> Hashable:
    """A hashable stand-in for whatever a (possibly malformed) identity field holds."""
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _transition_identity(entry: MarkedDict) -> Hashable:
    source = entry.get("from")
    # `from: detection` and `from: [detection]` are the same transition
    names = source if isinstance(source, list) else [source]
    return (_name(entry.get("trigger")), tuple(sorted(repr(_name(name)) for name in names)))


def _checklist_identity(entry: MarkedDict) -> Hashable:
    return _name(entry.get("id"))


def _identity_at(path: tuple[str, ...]) -> Callable[[MarkedDict], Hashable] | None:
    """How entries of the list at `path` are matched, if they are."""
    if path == ("transitions",):
        return _transition_identity
    if len(path) == 3 and path[0] == "states" and path[2] == "checklist":
        return _checklist_identity
    return None


def merge(base: Any, override: Any, *, path: tuple[str, ...] = ()) -> Any:
    """The result of `override` extending `base`; neither input is changed."""
    if not (isinstance(base, MarkedDict) and isinstance(override, MarkedDict)):
        return override
    merged = MarkedDict(override.location)
    for key in [*base, *(k for k in override if k not in base)]:
        if not path and key in NOT_INHERITED and key not in override:
            continue
        if key not in override:
            merged.put(
                key,
                base[key],
                key_location=base.key_locations[key],
                value_location=base.value_locations[key],
            )
            continue
        value = override[key]
        if value is None and key in base:
            continue  # `key: ~` removes what the base defined
        inherited = base.get(key)
        identity = _identity_at((*path, key))
        if identity and isinstance(inherited, MarkedList) and isinstance(value, MarkedList):
            combined: Any = _merge_entries(inherited, value, identity, (*path, key))
        elif isinstance(inherited, MarkedDict) and isinstance(value, MarkedDict):
            combined = merge(inherited, value, path=(*path, key))
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
    base: MarkedList,
    override: MarkedList,
    identity: Callable[[MarkedDict], Hashable],
    path: tuple[str, ...],
) -> MarkedList:
    entries: dict[Hashable, tuple[Any, Any]] = {}  # identity -> (entry, location)
    order: list[Hashable] = []
    for source in (base, override):
        for position, (entry, location) in enumerate(
            zip(source, source.item_locations, strict=True)
        ):
            # malformed entries are kept apart, for the schema to report
            key = (
                identity(entry)
                if isinstance(entry, MarkedDict)
                else ("<item>", id(source), position)
            )
            if key in entries and source is override:
                inherited, _location = entries[key]
                if isinstance(entry, MarkedDict) and entry.get("remove") is True:
                    order.remove(key)
                    del entries[key]
                    continue
                entries[key] = (merge(inherited, entry, path=path), location)
            else:
                if key not in entries:
                    order.append(key)
                entries[key] = (entry, location)
    result = MarkedList(override.location)
    for key in order:
        entry, location = entries[key]
        result.append_marked(entry, location)
    return result
