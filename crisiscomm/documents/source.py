"""Where each value of a loaded document came from (file, line, column).

The loader returns plain `dict` and `list` subclasses that remember the location of every
key and item, so that merging, schema checks and lint rules can point at the exact line a
playbook author wrote, even when the value came from a protocol the playbook extends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Location", "MarkedDict", "MarkedList", "location_of"]


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and column in a file."""

    file: str
    line: int
    column: int
    # The scalar exactly as written (plain numbers only), for messages such as
    # "3.10 was read as the number 3.1".
    text: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class MarkedDict(dict[str, Any]):
    """A mapping that knows the location of itself, its keys and its values."""

    location: Location
    key_locations: dict[str, Location]
    value_locations: dict[str, Location]

    def __init__(self, location: Location) -> None:
        super().__init__()
        self.location = location
        self.key_locations = {}
        self.value_locations = {}

    def put(
        self, key: str, value: Any, *, key_location: Location, value_location: Location
    ) -> None:
        """Set a key together with where the key and its value were written."""
        self[key] = value
        self.key_locations[key] = key_location
        self.value_locations[key] = value_location


class MarkedList(list[Any]):
    """A sequence that knows the location of itself and of each item."""

    location: Location
    item_locations: list[Location]

    def __init__(self, location: Location, items: Iterable[tuple[Any, Location]] = ()) -> None:
        super().__init__()
        self.location = location
        self.item_locations = []
        for value, value_location in items:
            self.append_marked(value, value_location)

    def append_marked(self, value: Any, location: Location) -> None:
        """Append an item together with where it was written."""
        self.append(value)
        self.item_locations.append(location)


def _child_location(container: Any, step: str | int, *, key: bool) -> Location | None:
    if isinstance(container, MarkedDict) and isinstance(step, str):
        table = container.key_locations if key else container.value_locations
        return table.get(step)
    if isinstance(container, MarkedList) and isinstance(step, int) and step >= 0:
        return container.item_locations[step] if step < len(container.item_locations) else None
    return None


def location_of(root: Any, path: Sequence[str | int], *, key: bool = False) -> Location | None:
    """The location of the value at `path` (or of its key, with `key=True`).

    Walks as deep as the document allows and returns the deepest location found, so a
    path into a missing value still points at its nearest written parent.
    """
    best: Location | None = getattr(root, "location", None)
    node = root
    for index, step in enumerate(path):
        is_last = index == len(path) - 1
        found = _child_location(node, step, key=key and is_last)
        if found is None:
            break
        best = found
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return best
